// GracefulStopTests.swift: SIGTERM and SIGINT, sent to a spawned v0.7-server (never to the test process,
// whose threads do not block them).
@testable import Conformance
import Glibc
import Testing

@Suite struct GracefulStopTests {
    func startServer(_ flags: String = "") throws -> ServerProcess {
        let binary = shellQuoted(try #require(builtProduct("v0.7-server"), "v0.7-server is missing: build it first"))
        return try ServerProcess.start(command: binary + " " + flags, readyTimeout: .seconds(15))
    }

    func frame(_ text: String) -> [UInt8] { Frame(msgid: 1, payload: Array(text.utf8)).encoded }

    @Test("SIGTERM: every frame received is answered, then end of stream, new connections refused, exit 0")
    func sigterm() throws {
        let process = try startServer("--grace 5s")
        defer { process.stop() }
        let deadline = Deadline.after(.seconds(10))
        let connection = try WireConnection(connectingTo: process.address, deadline: deadline)
        let requests = (0..<20).flatMap { frame("request \($0)") }
        try connection.send(requests, what: "20 pipelined frames")
        #expect(kill(process.pid, SIGTERM) == 0)
        let replies = try connection.receive(exactly: requests.count, what: "the 20 replies")
        #expect(replies == requests)
        try connection.expectCleanEnd(after: "the 20 replies")
        #expect(try ProcessStats.listeningSocketCount(of: process.pid) == 0, "still listening after SIGTERM: \((try? runCommand("ls -l /proc/\(process.pid)/fd").lines) ?? [])")
        connection.close()                                   // its lingering close ends; the server need not wait out the grace
        #expect(process.exitStatus(waitingUpTo: .seconds(10)) == .exited(0))
    }

    @Test("a second signal exits at once, with status 1")
    func secondSignal() throws {
        let process = try startServer("--grace 30s")
        defer { process.stop() }
        let connection = try WireConnection(connectingTo: process.address, deadline: .after(.seconds(10)))
        // A connection that never ends: the graceful stop would wait the whole 30 s grace for it.
        try connection.send(frame("hello"), what: "a frame")
        _ = try connection.receive(exactly: frame("hello").count, what: "its echo")
        #expect(kill(process.pid, SIGINT) == 0)             // Ctrl-C
        try connection.expectCleanEnd(after: "the graceful stop")
        #expect(process.exitStatus(waitingUpTo: .milliseconds(300)) == nil, "exited before the connection's linger ended")
        #expect(kill(process.pid, SIGINT) == 0)
        #expect(process.exitStatus(waitingUpTo: .seconds(5)) == .exited(1))
    }
}
