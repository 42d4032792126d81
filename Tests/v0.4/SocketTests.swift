// SocketTests.swift: the socket calls of v0.1, in one process over 127.0.0.1.
import Glibc
import Testing
@testable import Net_v0_4

@Suite struct SocketTests {
    let loopback = SocketAddress(host: "127.0.0.1", port: 0)!

    @Test("writeAll retries short writes")
    func writeAllRetriesShortWrites() throws {
        let message = Array((0..<100).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        var written: [UInt8] = []
        var calls = 0
        // A write(2) that takes at most 7 bytes a call, as a busy kernel may.
        try message.withUnsafeBytes { bytes in
            try Socket.writeAll(bytes) { chunk in
                calls += 1
                let taken = min(7, chunk.count)
                written += chunk.prefix(taken)
                return taken
            }
        }
        #expect(written == message)
        #expect(calls == (100 + 6) / 7)
    }

    @Test("port 0 gets a real port from the kernel")
    func portZeroPicksAFreePort() throws {
        let listener = try Socket.listen(on: loopback)
        let bound = try #require(try listener.localAddress())
        #expect(bound.port != 0)
        #expect(bound.host == "127.0.0.1")
    }

    @Test("a busy port is reported as EADDRINUSE")
    func busyPort() throws {
        let first = try Socket.listen(on: loopback)
        let port = try #require(try first.localAddress()).port
        let error = #expect(throws: SystemError.self) {
            _ = try Socket.listen(on: SocketAddress(host: "127.0.0.1", port: port)!)
        }
        #expect(error?.errno == EADDRINUSE)
        #expect(error?.description == "bind: Address already in use (EADDRINUSE)")
    }

    @Test("connect to a port with no listener is ECONNREFUSED")
    func connectRefused() throws {
        // Bind a port and close it again: nobody listens there now.
        let port = try #require(try Socket.listen(on: loopback).localAddress()).port
        let error = #expect(throws: SystemError.self) {
            _ = try Socket.connect(to: SocketAddress(host: "127.0.0.1", port: port)!)
        }
        #expect(error?.errno == ECONNREFUSED)
    }

    @Test("bytes cross a connection, and shutdownWrite is seen as end of stream")
    func roundTripAndEndOfStream() throws {
        let listener = try Socket.listen(on: loopback)
        let address = try #require(try listener.localAddress())
        // connect(2) returns once the kernel has completed the handshake and queued the connection in
        // the backlog, so one thread can connect first and accept after.
        let client = try Socket.connect(to: address)
        var peer: SocketAddress?
        guard let server = try listener.accept(peer: &peer) else {
            Issue.record("accept found no connection")
            return
        }
        #expect(peer?.host == "127.0.0.1")

        try Array("ping".utf8).withUnsafeBytes { try client.writeAll($0) }
        try client.shutdownWrite()
        var received: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 1)
        defer { buffer.deallocate() }
        // Accepted sockets are non-blocking from v0.3 on: nil means "not yet", and on loopback the bytes
        // and the FIN are already there, so this loop does not spin for long.
        while true {
            guard let count = try server.read(into: buffer) else { continue }
            if count == 0 { break }
            received += buffer.prefix(count)
        }
        #expect(received == Array("ping".utf8))
    }
}
