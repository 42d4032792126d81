// EchoServerTests.swift: the v0.4-server and v0.4-client programs, run as a learner runs them.
import Conformance
import Glibc
import Testing
@testable import Net_v0_4

@Suite(.timeLimit(.minutes(5))) struct EchoServerTests {
    let server = "v0.4-server"
    let client = "v0.4-client"

    func binary(_ name: String) throws -> String {
        shellQuoted(try #require(builtProduct(name), "\(name) is missing: build it first (swift build)"))
    }

    /// What this stage's server echoes: a frame (msgid 1) holding the text.
    func wireMessage(_ text: String) -> [UInt8] {
        let buffer = IOBuffer(capacity: 64)
        Array(text.utf8).withUnsafeBytes { FrameCodec().encode(msgid: 1, payload: $0, into: buffer) }
        return buffer.withReadableBytes { Array($0) }
    }

    /// Waits up to `milliseconds` for bytes on the socket `fd`; true if any arrived.
    func bytesArrive(on fd: CInt, within milliseconds: CInt) -> Bool {
        var pollfd = Glibc.pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&pollfd, 1, milliseconds) == 1
    }

    @Test("a second client is served while the first stays connected")
    func secondClientServedAtOnce() throws {
        let process = try ServerProcess.start(command: try binary(server), readyTimeout: .seconds(15))
        defer { process.stop() }
        let address = try #require(SocketAddress(host: "127.0.0.1", port: process.address.port))

        let first = try Socket.connect(to: address)
        let hello = wireMessage("first")
        try hello.withUnsafeBytes { try first.writeAll($0) }
        #expect(bytesArrive(on: first.fd, within: 10_000))

        // v0.2 served nobody else while `first` was connected; the event loop serves both.
        let second = try Socket.connect(to: address)
        let message = wireMessage("second")
        try message.withUnsafeBytes { try second.writeAll($0) }
        #expect(bytesArrive(on: second.fd, within: 10_000), "the second client was not served while the first was connected")
        var reply = [UInt8](repeating: 0, count: message.count)
        var received = 0
        while received < message.count, bytesArrive(on: second.fd, within: 10_000) {
            let count = try reply.withUnsafeMutableBytes {
                try second.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[received...]))
            }
            guard let count, count > 0 else { break }
            received += count
        }
        #expect(reply == message)
        first.close()
    }

    @Test("the client's demo passes against the server")
    func clientDemo() throws {
        let process = try ServerProcess.start(command: try binary(server), readyTimeout: .seconds(15))
        defer { process.stop() }
        let result = try runCommand("\(try binary(client)) --port \(process.address.port) --demo")
        #expect(result.status == .exited(0), "\(result.lines)")
        #expect(result.lines.last == "100 of 100 echoes correct, on 20 connections", "\(result.lines)")
    }

    @Test("a long message comes back whole through the blocking client")
    func longMessageThroughBlockingClient() throws {
        let process = try ServerProcess.start(command: try binary(server), readyTimeout: .seconds(15))
        defer { process.stop() }
        // 96 KiB: the echo comes back in several reads, which the client must put together.
        let message = String(repeating: "0123456789abcdef", count: 6 * 1024)
        let result = try runCommand("\(try binary(client)) --port \(process.address.port) \(message)")
        #expect(result.status == .exited(0), "\(result.lines.suffix(3))")
        #expect(result.lines.contains { $0.hasPrefix("echo ok") && $0.hasSuffix("(98304 bytes)") }, "\(result.lines.suffix(3))")
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
