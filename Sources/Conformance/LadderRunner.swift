// LadderRunner.swift: runs the chosen behaviours against one server, restarting it when needed.
import Glibc

/// How one behaviour went: passed, failed (`failure`) or skipped (`skipReason`).
public struct BehaviourResult: Sendable {
    public let behaviour: Behaviour
    /// nil if it passed or was skipped; else what was expected and what came instead (may span
    /// several lines).
    public let failure: String?
    /// Why it was not run, if it was not: it needs something this run cannot give (the server's
    /// pid under --connect). Not a failure: the checker's exit status ignores it.
    public let skipReason: String?
    /// Things worth knowing that are not failures ("the server could not be restarted").
    public let notes: [String]
    public let duration: Duration

    public var passed: Bool { failure == nil && skipReason == nil }
    public var failed: Bool { failure != nil }
    public var skipped: Bool { skipReason != nil }
}

/// Runs `options.selected` in order against one server.
///
/// With `--server`, the server is started before the first behaviour and kept across behaviours,
/// but replaced after a behaviour that is `damaging` or that failed, so one failure does not
/// cascade into the next. A behaviour that needs an fd limit (`ServerNeeds.fdLimit`) gets a server
/// of its own instead, started for it and stopped after it. After every behaviour its server must
/// still be running: a server that died fails that behaviour. If the shared server cannot be
/// started, the remaining behaviours are not run (and count as failed). With `--connect`, the
/// behaviours that need more than the wire are skipped. Every server is stopped before `run` returns.
public struct LadderRunner {
    public let options: CheckerOptions
    /// Where --verbose output goes (the server's lines, timings).
    public let log: (String) -> Void

    public init(options: CheckerOptions, log: @escaping (String) -> Void = { _ in }) {
        self.options = options
        self.log = log
    }

    /// Runs the behaviours, calling `onResult` as each one ends, and returns all results.
    @discardableResult
    public func run(onResult: (BehaviourResult) -> Void = { _ in }) -> [BehaviourResult] {
        var server: ServerProcess? = nil     // shared by the behaviours until one fails or damages it
        defer { server?.stop() }
        var startFailure: String? = nil
        var results: [BehaviourResult] = []
        for behaviour in options.selected {
            let started = ContinuousClock.now
            var failure: String? = nil
            let skipReason = reasonToSkip(behaviour)
            var notes: [String] = []
            if skipReason != nil {
                // Nothing to run, and nothing to start.
            } else if let startFailure {
                failure = "not run: \(startFailure)"
            } else if case .fdLimit(let limit) = behaviour.needs, case .command(let command)? = options.target {
                failure = checkOnOwnServer(behaviour, command: command, fdLimit: limit)
            } else if case .flags(let flags) = behaviour.needs, case .command(let command)? = options.target {
                failure = checkOnOwnServer(behaviour, command: command + " " + flags, fdLimit: nil)
            } else {
                do {
                    let (address, pid) = try sharedServer(&server)
                    failure = check(behaviour, against: address, pid: pid)
                } catch {
                    failure = "\(error)"
                    startFailure = "the server did not start"
                }
                if let running = server {
                    failure = afterCheck(running, failure: failure)
                    if failure != nil || behaviour.damaging {
                        running.stop()
                        server = nil
                    }
                } else if behaviour.damaging, case .address? = options.target {
                    notes.append("with --connect the server cannot be restarted after this behaviour")
                }
            }
            let result = BehaviourResult(behaviour: behaviour, failure: failure, skipReason: skipReason, notes: notes,
                                         duration: ContinuousClock.now - started)
            if options.verbose { log("  (\(behaviour.id) took \(result.duration.readable))") }
            results.append(result)
            onResult(result)
        }
        return results
    }

    /// Why `behaviour` cannot run against this target, or nil if it can: only a server the checker
    /// started has a pid to read /proc of, or can be given a lower fd limit.
    private func reasonToSkip(_ behaviour: Behaviour) -> String? {
        guard case .address? = options.target else { return nil }
        switch behaviour.needs {
        case .wire: return nil
        case .pid: return "needs the server's pid to read /proc/PID, which --connect does not give (use --server)"
        case .fdLimit(let limit): return "needs a server of its own started under `ulimit -n \(limit)` (use --server)"
        case .flags(let flags): return "needs a server started with `\(flags)` (use --server, which starts one so)"
        }
    }

    /// Runs one behaviour's check; nil if it passed, else why not.
    private func check(_ behaviour: Behaviour, against address: ServerAddress, pid: pid_t?, process: ServerProcess? = nil) -> String? {
        var context = BehaviourContext(address: address, mode: Ladder.wireMode(ofStage: options.stage),
                                       maxFrame: options.maxFrame, deadline: .after(behaviour.timeout), serverPid: pid)
        if let process { context.awaitServerExit = { process.exitStatus(waitingUpTo: $0) } }
        do {
            try behaviour.check(context)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// Starts a server just for `behaviour` (under `ulimit -n fdLimit`, if given), checks, and stops it.
    private func checkOnOwnServer(_ behaviour: Behaviour, command: String, fdLimit: Int?) -> String? {
        let own: ServerProcess
        do {
            own = try startServer(command, fdLimit: fdLimit)
        } catch {
            return "the server did not start" + (fdLimit.map { " under `ulimit -n \($0)`" } ?? " as `\(command)`") + ": \(error)"
        }
        defer { own.stop() }
        let failure = check(behaviour, against: own.address, pid: own.pid, process: own)
        return behaviour.endsServer ? failure : afterCheck(own, failure: failure)
    }

    /// `failure`, with the server's exit status and last output added if it has exited. Drains its
    /// output every time: a server blocked on a full pipe stops serving.
    private func afterCheck(_ running: ServerProcess, failure: String?) -> String? {
        // After a failure, wait a moment: a crashing server has closed its sockets (which is what
        // failed the check) a little before its exit can be seen.
        let status = running.exitStatus(waitingUpTo: failure == nil ? .zero : .milliseconds(500))
        running.output.drain()
        guard let status else { return failure }
        return (failure.map { $0 + "; " } ?? "") + "the server \(status); \(running.output.lastLines)"
    }

    /// The address to connect to and the server's pid (nil under --connect), starting the shared
    /// server first if it is not running.
    private func sharedServer(_ server: inout ServerProcess?) throws -> (ServerAddress, pid_t?) {
        switch options.target {
        case .address(let address)?:
            return (address, nil)
        case .command(let command)?:
            if let server { return (server.address, server.pid) }
            let started = try startServer(command, fdLimit: nil)
            server = started
            return (started.address, started.pid)
        case nil:
            throw CheckFailure("no server: give --server or --connect")
        }
    }

    private func startServer(_ command: String, fdLimit: Int?) throws -> ServerProcess {
        let started = try ServerProcess.start(command: command, readyTimeout: options.readyTimeout, fdLimit: fdLimit,
                                              onLine: options.verbose ? { log("  server| " + $0) } : nil)
        if options.verbose {
            log("  server started, pid \(started.pid), \(started.address)" + (fdLimit.map { ", ulimit -n \($0)" } ?? ""))
        }
        return started
    }
}
