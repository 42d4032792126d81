// ExitStatus.swift: how a server process ended, in words (exit status 1, signal 11 SIGSEGV).
import Glibc

/// How a child process ended, as waitid(2) reports it.
public enum ExitStatus: Equatable, Sendable, CustomStringConvertible {
    case exited(CInt)
    case killed(signal: CInt)

    /// For example "exited with status 1" or "was killed by signal 11 (SIGSEGV)".
    public var description: String {
        switch self {
        case .exited(let status):
            return "exited with status \(status)"
        case .killed(let signal):
            return "was killed by signal \(signal)\(ExitStatus.signalNames[signal].map { " (\($0))" } ?? "")"
        }
    }

    /// The signals a crashing or stopped server dies of. A Swift runtime trap (force-unwrapping nil,
    /// an index out of range, an overflow) shows up as SIGILL or SIGTRAP.
    private static let signalNames: [CInt: String] = [
        SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
        SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV",
        SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM",
    ]
}
