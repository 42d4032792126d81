// ServerProcess.swift: a server under test: started from a command, awaited until ready, stopped.
import Glibc

/// A server the checker started and must stop: the leader of its own process group, with its
/// stdout+stderr in a pipe the checker reads.
///
/// Owns the child process: reaps it exactly once, in `stop()`. Until then an exited server stays a
/// zombie, which keeps its pid (= its process group's id) from being reused, so stopping the group
/// can never signal a stranger. `deinit` stops it too, so a server cannot outlive its owner.
public final class ServerProcess {
    /// How long stop() waits after SIGTERM before SIGKILL.
    static let termGracePeriod: Duration = .seconds(2)

    public let pid: pid_t
    public let address: ServerAddress
    let output: ServerOutput
    private var stopped = false

    private init(pid: pid_t, address: ServerAddress, output: ServerOutput) {
        self.pid = pid
        self.address = address
        self.output = output
    }

    deinit { stop() }

    /// Starts `command` with `--port 0` (or with every `{port}` replaced by 0) and waits for its
    /// ready line, `listening on HOST:PORT`, on stdout or stderr; other lines may come before it.
    ///
    /// - Parameters:
    ///   - readyTimeout: how long the server has to print the ready line.
    ///   - fdLimit: if given, the server runs under `ulimit -n fdLimit` (see spawnInNewProcessGroup).
    ///   - onLine: called with every line the server prints (the checker's --verbose).
    /// - Throws: CheckFailure if the server exits or stays silent past the timeout, with its last
    ///   output; in both cases the server's process group has been stopped and reaped.
    public static func start(command: String, readyTimeout: Duration, fdLimit: Int? = nil,
                             onLine: ((String) -> Void)? = nil) throws -> ServerProcess {
        let commandLine = command.contains("{port}")
            ? command.replacing("{port}", with: "0")
            : command + " --port 0"
        let child: (pid: pid_t, output: CInt)
        do {
            child = try spawnInNewProcessGroup(command: commandLine, fdLimit: fdLimit)
        } catch {
            throw CheckFailure("could not start the server `\(commandLine)`: \(error)")
        }
        let pid = child.pid
        InterruptGuard.remember(pid)
        let output = ServerOutput(fd: child.output, onLine: onLine)
        do {
            let address = try awaitReadyLine(pid: pid, output: output, timeout: readyTimeout)
            return ServerProcess(pid: pid, address: address, output: output)
        } catch {
            stopGroup(pid)
            output.close()
            throw error
        }
    }

    /// Reads the server's output until a ready line, the server's exit, or the deadline.
    private static func awaitReadyLine(pid: pid_t, output: ServerOutput, timeout: Duration) throws -> ServerAddress {
        let deadline = Deadline.after(timeout)
        while true {
            // The wait is sliced into short polls because the pipe alone cannot tell us the server
            // exited: a helper it started may still hold the pipe open.
            for line in try output.read(waitingUpTo: deadline.pollTimeout(cap: .milliseconds(100))) {
                if let address = ServerAddress(readyLine: line) { return address }
                if line.contains("listening on ") {
                    // Fail now rather than after the timeout: `listening on 127.0.0.1:0` is a
                    // classic (the port asked for, not the one the kernel picked: see getsockname).
                    throw CheckFailure("the server's ready line `\(line)` does not end in an IPv4 HOST:PORT with a port in 1...65535")
                }
            }
            if let status = try sysExitStatusIfExited(pid) {
                output.drain()
                throw CheckFailure("the server exited before ready: it \(status); \(output.lastLines)")
            }
            if deadline.hasPassed {
                // PITFALL: a server's stdout into a pipe is block-buffered, so a ready line printed
                // without a flush sits in the server's buffer and never reaches us.
                throw CheckFailure("the server printed no ready line (`listening on HOST:PORT`) within \(timeout.readable)"
                    + " (if it does print one, flush stdout: into a pipe it is block-buffered); \(output.lastLines)")
            }
            if output.reachedEnd { sysSleep(.milliseconds(20)) }   // nothing left to poll on; only its exit can come
        }
    }

    /// How the server ended, or nil if it is still running after `wait` (by default, not waiting).
    /// Does not reap it (see the type's comment).
    public func exitStatus(waitingUpTo wait: Duration = .zero) -> ExitStatus? {
        ServerProcess.exitStatus(of: pid, waitingUpTo: wait)
    }

    /// Polls waitid every 5 ms: a child's exit cannot be awaited with a timeout any other way
    /// without a pidfd or a SIGCHLD handler, and 5 ms is short next to what is waited for.
    private static func exitStatus(of pid: pid_t, waitingUpTo wait: Duration) -> ExitStatus? {
        let deadline = Deadline.after(wait)
        while true {
            if let status = try? sysExitStatusIfExited(pid) { return status }
            if deadline.hasPassed { return nil }
            sysSleep(.milliseconds(5))
        }
    }

    /// Stops the server's whole process group: SIGTERM, up to `termGracePeriod` to exit, then
    /// SIGKILL for whatever is left (the server, or helpers that ignored SIGTERM), and reaps the
    /// server. Safe to call more than once.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        output.drain()
        ServerProcess.stopGroup(pid)
        output.close()
    }

    private static func stopGroup(_ pid: pid_t) {
        _ = try? sysKillGroup(pid, SIGTERM)
        _ = exitStatus(of: pid, waitingUpTo: termGracePeriod)
        _ = try? sysKillGroup(pid, SIGKILL)   // harmless if all are gone: the zombie holds the id
        try? sysReap(pid)
        InterruptGuard.forget(pid)
    }
}
