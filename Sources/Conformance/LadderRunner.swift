// LadderRunner.swift: runs the chosen behaviours against one server, restarting it when needed.

/// How one behaviour went.
public struct BehaviourResult: Sendable {
    public let behaviour: Behaviour
    /// nil if it passed; else what was expected and what came instead (may span several lines).
    public let failure: String?
    /// Things worth knowing that are not failures ("the server could not be restarted").
    public let notes: [String]
    public let duration: Duration

    public var passed: Bool { failure == nil }
}

/// Runs `options.selected` in order against one server.
///
/// With `--server`, the server is started before the first behaviour and kept across behaviours,
/// but replaced after a behaviour that is `damaging` or that failed, so one failure does not
/// cascade into the next. After every behaviour the server must still be running: a server that
/// died fails that behaviour. If the server cannot be started, the remaining behaviours are not
/// run (and count as failed). Every server is stopped before `run` returns.
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
        var server: ServerProcess? = nil
        defer { server?.stop() }
        var startFailure: String? = nil
        var results: [BehaviourResult] = []
        for behaviour in options.selected {
            let started = ContinuousClock.now
            var failure: String? = nil
            var notes: [String] = []
            if let startFailure {
                failure = "not run: \(startFailure)"
            } else {
                do {
                    let address = try serverAddress(&server)
                    failure = check(behaviour, against: address)
                } catch {
                    failure = "\(error)"
                    startFailure = "the server did not start"
                }
            }
            if let running = server {
                // After a failure, wait a moment: a crashing server has closed its sockets (which
                // is what failed the check) a little before its exit can be seen.
                let status = running.exitStatus(waitingUpTo: failure == nil ? .zero : .milliseconds(500))
                running.output.drain()       // every time: a server blocked on a full pipe stops serving
                if let status {
                    failure = (failure.map { $0 + "; " } ?? "") + "the server \(status); \(running.output.lastLines)"
                }
                if failure != nil || behaviour.damaging {
                    running.stop()
                    server = nil
                }
            } else if behaviour.damaging, case .address? = options.target {
                notes.append("with --connect the server cannot be restarted after this behaviour")
            }
            let result = BehaviourResult(behaviour: behaviour, failure: failure, notes: notes, duration: ContinuousClock.now - started)
            if options.verbose { log("  (\(behaviour.id) took \(result.duration.readable))") }
            results.append(result)
            onResult(result)
        }
        return results
    }

    /// Runs one behaviour's check; nil if it passed, else why not.
    private func check(_ behaviour: Behaviour, against address: ServerAddress) -> String? {
        let context = BehaviourContext(address: address, mode: Ladder.wireMode(ofStage: options.stage),
                                       maxFrame: options.maxFrame, deadline: .after(behaviour.timeout))
        do {
            try behaviour.check(context)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// The address to connect to, starting the server first if it is not running.
    private func serverAddress(_ server: inout ServerProcess?) throws -> ServerAddress {
        switch options.target {
        case .address(let address)?:
            return address
        case .command(let command)?:
            if let server { return server.address }
            let started = try ServerProcess.start(command: command, readyTimeout: options.readyTimeout,
                                                  onLine: options.verbose ? { log("  server| " + $0) } : nil)
            server = started
            if options.verbose { log("  server started, pid \(started.pid), \(started.address)") }
            return started.address
        case nil:
            throw CheckFailure("no server: give --server or --connect")
        }
    }
}
