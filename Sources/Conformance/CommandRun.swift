// CommandRun.swift: run a command to its end and collect its exit status and output (for a stage's
// tests of its client program and of its start-up errors: a bad flag, a busy port).
import Glibc

/// How a command ended and every line it printed on stdout and stderr, in order.
public struct CommandResult: Sendable {
    public let status: ExitStatus
    public let lines: [String]
}

/// Runs `command` (a shell command line, like `ServerProcess.start` takes) until it exits, at most
/// `timeout`; a command still running then is killed with its process group and reported as a
/// CheckFailure, so a test that runs it is bounded however the command behaves.
public func runCommand(_ command: String, timeout: Duration = .seconds(20)) throws -> CommandResult {
    let child = try spawnInNewProcessGroup(command: command)
    InterruptGuard.remember(child.pid)
    let output = ServerOutput(fd: child.output, onLine: nil)
    defer {
        output.close()
        _ = try? sysKillGroup(child.pid, SIGKILL)   // helpers it left behind, or all of it on a timeout
        try? sysReap(child.pid)
        InterruptGuard.forget(child.pid)
    }
    let deadline = Deadline.after(timeout)
    var lines: [String] = []
    while true {
        lines += try output.read(waitingUpTo: deadline.pollTimeout(cap: .milliseconds(100)))
        if output.reachedEnd, let status = try sysExitStatusIfExited(child.pid) {
            return CommandResult(status: status, lines: lines)
        }
        if deadline.hasPassed {
            throw CheckFailure("`\(command)` did not finish within \(timeout.readable); \(output.lastLines)")
        }
        if output.reachedEnd { sysSleep(.milliseconds(5)) }   // output closed; its exit is moments away
    }
}
