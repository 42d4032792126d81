// EchoServerTests.swift: the v0.1-server and v0.1-client programs, run as a learner runs them.
import Conformance
import Glibc
import Testing
@testable import Net_v0_1

@Suite(.timeLimit(.minutes(5))) struct EchoServerTests {
    let server = "v0.1-server"
    let client = "v0.1-client"

    func binary(_ name: String) throws -> String {
        shellQuoted(try #require(builtProduct(name), "\(name) is missing: build it first (swift build)"))
    }

    /// What this stage's server echoes: raw bytes.
    func wireMessage(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Waits up to `milliseconds` for bytes on the socket `fd`; true if any arrived.
    func bytesArrive(on fd: CInt, within milliseconds: CInt) -> Bool {
        var pollfd = Glibc.pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&pollfd, 1, milliseconds) == 1
    }

    @Test("a second client waits for the first")
    func secondClientWaits() throws {
        let process = try ServerProcess.start(command: try binary(server), readyTimeout: .seconds(15))
        defer { process.stop() }
        let address = try #require(SocketAddress(host: "127.0.0.1", port: process.address.port))

        let first = try Socket.connect(to: address)
        let hello = wireMessage("first")
        try hello.withUnsafeBytes { try first.writeAll($0) }
        #expect(bytesArrive(on: first.fd, within: 10_000))   // the server is now inside serve(first)

        // The kernel completes the second handshake (connect returns) and queues the connection in
        // the listen backlog, but nobody reads it while the server is busy with the first client.
        let second = try Socket.connect(to: address)
        let message = wireMessage("second")
        try message.withUnsafeBytes { try second.writeAll($0) }
        // The one bounded wait in this suite: proving that nothing arrives takes waiting a while.
        #expect(!bytesArrive(on: second.fd, within: 300), "the second client was served while the first was connected")

        first.close()   // the server's read returns 0, it closes, and accept() takes the second
        #expect(bytesArrive(on: second.fd, within: 10_000), "the second client was not served after the first left")
        var reply = [UInt8](repeating: 0, count: message.count)
        var received = 0
        while received < message.count, bytesArrive(on: second.fd, within: 10_000) {
            let count = try reply.withUnsafeMutableBytes {
                try second.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[received...]))
            }
            if count == 0 { break }
            received += count
        }
        #expect(reply == message)
    }

    @Test("the client's demo passes against the server")
    func clientDemo() throws {
        let process = try ServerProcess.start(command: try binary(server), readyTimeout: .seconds(15))
        defer { process.stop() }
        let result = try runCommand("\(try binary(client)) --port \(process.address.port) --demo")
        #expect(result.status == .exited(0), "\(result.lines)")
        #expect(result.lines.last == "\(EchoClient.demoMessages.count) of \(EchoClient.demoMessages.count) echoes correct")
    }

    @Test("the echo is read until every byte is back")
    func echoIsReadWhole() throws {
        let echo = Array((0..<100).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        var reply = [UInt8](repeating: 0, count: echo.count)
        var calls = 0
        // A read(2) that returns at most 7 bytes a call, as a stream may deliver a long echo.
        try reply.withUnsafeMutableBytes { reply in
            try EchoClient.readAll(into: reply) { space in
                let start = calls * 7, count = min(7, space.count)
                echo[start..<start + count].withUnsafeBytes { space.copyMemory(from: $0) }
                calls += 1
                return count
            }
        }
        #expect(reply == echo)
        #expect(calls == (100 + 6) / 7)
        // A server that closes early is an error, not a short echo.
        #expect(throws: EchoMismatch.self) {
            try reply.withUnsafeMutableBytes { reply in try EchoClient.readAll(into: reply) { _ in 0 } }
        }
    }

    @Test("bad flags print one line and exit 2", arguments: [
        ("--port abc", "invalid value 'abc' for --port"),
        ("--port 65536", "invalid value '65536' for --port"),
        ("--prot 7777", "unknown flag '--prot'"),
        ("--host nowhere", "invalid value 'nowhere' for --host"),
        ("--port", "--port needs a value"),
    ])
    func badFlags(flags: String, reason: String) throws {
        for program in [server, client] {
            let result = try runCommand("\(try binary(program)) \(flags)")
            #expect(result.status == .exited(2))
            #expect(result.lines.count == 1, "\(result.lines)")
            #expect(result.lines.first?.hasPrefix("\(program): \(reason)") == true, "\(result.lines)")
        }
    }

    @Test("a busy port prints one line and exits 1")
    func busyPort() throws {
        let holder = try Socket.listen(on: SocketAddress(host: "127.0.0.1", port: 0)!)
        let port = try #require(try holder.localAddress()).port
        let result = try runCommand("\(try binary(server)) --port \(port)")
        #expect(result.status == .exited(1))
        #expect(result.lines == ["\(server): cannot listen on 127.0.0.1:\(port): bind: Address already in use (EADDRINUSE)"])
    }

    @Test("a refused connection prints one line and exits 1")
    func refusedConnection() throws {
        // A port bound but not listening: a connect there is refused, and no test running beside
        // this one can take the port while `bound` holds it.
        let bound = Socket(fd: try sysSocket(AF_INET, CInt(SOCK_STREAM.rawValue)))
        try sysBind(bound.fd, SocketAddress(host: "127.0.0.1", port: 0)!)
        let port = try #require(try bound.localAddress()).port
        let result = try runCommand("\(try binary(client)) --port \(port) hello")
        #expect(result.status == .exited(1))
        #expect(result.lines == ["\(client): cannot connect to 127.0.0.1:\(port): connect: Connection refused (ECONNREFUSED)"])
    }
}
