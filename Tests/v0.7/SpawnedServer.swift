// SpawnedServer.swift: a v0.7-server started for one test, and the ladder's helpers to talk to it.
@testable import Conformance
import Glibc
import Testing

/// A spawned v0.7-server and a context to speak to it in frames (the ladder's helpers: readStats,
/// awaitStats, receiveFrame). Stopped by `stop()` (or the test's defer).
struct SpawnedServer {
    let process: ServerProcess
    let context: BehaviourContext

    init(_ flags: String, within limit: Duration = .seconds(30)) throws {
        let binary = shellQuoted(try #require(builtProduct("v0.7-server"), "v0.7-server is missing: build it first"))
        process = try ServerProcess.start(command: binary + " " + flags, readyTimeout: .seconds(15))
        context = BehaviourContext(address: process.address, mode: .framed, maxFrame: 1 << 20,
                                   deadline: .after(limit), serverPid: process.pid)
    }

    func connect() throws -> WireConnection { try context.connect() }

    func stats(on connection: WireConnection) throws -> [String: Int] { try readStats(context, on: connection) }

    func awaitStat(_ name: String, _ value: Int, on connection: WireConnection, what: String) throws {
        try awaitStats(context, on: connection, until: name, is: value, what: what)
    }

    func receive(on connection: WireConnection, what: String) throws -> Frame {
        try context.receiveFrame(on: connection, what: what)
    }

    /// SIGTERM, then how the server exited within `wait` (nil: it did not). Under ThreadSanitizer
    /// (make sanitize) a server in which it found a race exits 66 instead of 0.
    func terminate(waitingUpTo wait: Duration = .seconds(15)) -> Conformance.ExitStatus? {
        kill(process.pid, SIGTERM)
        return process.exitStatus(waitingUpTo: wait)
    }

    func stop() { process.stop() }
}

func echoRequest(_ text: String) -> Frame { Frame(msgid: 1, payload: Array(text.utf8)) }
