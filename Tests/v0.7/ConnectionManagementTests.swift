// ConnectionManagementTests.swift: v0.5's server in one process, over socketpairs: replies in request
// order through the router, the per-connection context, the hooks, --max-connections, the lingering close.
import Glibc
import Testing
@testable import Net_v0_7

/// One client end of a server connection (a socketpair's other end), and what it reads.
final class Client {
    private(set) var fd: CInt
    let connection: TCPConnection
    private var input: [UInt8] = []

    init(of server: EchoServer) throws {
        let (ours, theirs) = try socketPair()
        try #require(fcntl(ours, F_SETFL, O_NONBLOCK) == 0 && fcntl(theirs, F_SETFL, O_NONBLOCK) == 0)
        fd = theirs
        let made = server.newConnection(Socket(fd: ours), peer: nil)
        connection = try #require(made)
    }

    deinit { close() }

    /// Closes our end (once: tests run in parallel in this process, and a second close could close
    /// another test's fd that got the same number).
    func close() {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
    }

    static func frame(_ msgid: UInt32, _ payload: [UInt8] = []) -> [UInt8] {
        withUnsafeBytes(of: msgid.bigEndian, Array.init) + withUnsafeBytes(of: UInt32(payload.count).bigEndian, Array.init) + payload
    }

    func write(_ bytes: [UInt8]) {
        #expect(bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count)
    }

    /// Turns the loop until `count` whole frames have come (or 2,000 turns), and returns them.
    func frames(_ count: Int, loop: EventLoop) -> [(msgid: UInt32, text: String)] {
        var frames: [(UInt32, String)] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        for _ in 0..<2000 where frames.count < count {
            loop.runOnce(timeout: 1)
            let n = read(fd, &buffer, buffer.count)
            if n > 0 { input += buffer[..<n] }
            while input.count >= 8 {
                let length = input[4..<8].reduce(0) { $0 << 8 | Int($1) }
                guard input.count >= 8 + length else { break }
                frames.append((input[0..<4].reduce(0) { $0 << 8 | UInt32($1) }, String(decoding: input[8..<(8 + length)], as: UTF8.self)))
                input.removeFirst(8 + length)
            }
        }
        return frames
    }

    /// Turns the loop until this end reads end of stream (true) or a reset, or 2,000 turns pass.
    func readsEnd(loop: EventLoop) -> Bool? {
        var byte: UInt8 = 0
        for _ in 0..<2000 {
            loop.runOnce(timeout: 1)
            let n = read(fd, &byte, 1)
            if n == 0 { return true }
            if n < 0 && errno != EAGAIN { return false }
            #expect(n <= 0, "a byte after the last frame")
        }
        return nil
    }
}

func makeServer(maxConnections: Int = 0, maxFrame: Int = FrameCodec.defaultMaxFrame, timeouts: Timeouts = .off) throws -> EchoServer {
    try EchoServer(address: SocketAddress(host: "127.0.0.1", port: 0)!, maxFrame: maxFrame, maxConnections: maxConnections, timeouts: timeouts)
}

/// Turns the loop until `done`, at most 2,000 times.
func run(_ loop: EventLoop, until done: () -> Bool) {
    for _ in 0..<2000 where !done() { loop.runOnce(timeout: 1) }
}

/// What a handler keeps on its connection in these tests.
private final class Tally {
    var count = 0
}

@Suite struct ConnectionManagementTests {
    @Test("replies come in request order: echoes, unknown msgids, handlers' replies and their errors")
    func repliesInOrder() throws {
        let server = try makeServer()
        try server.register(7, .handler { request, reply throws(RequestError) in
            guard !request.payload.isEmpty else { throw RequestError(.badRequest, "msgid 7 wants a payload") }
            reply.append(UnsafeRawBufferPointer(start: request.payload.baseAddress, count: 1))    // its first byte
        })
        let client = try Client(of: server)
        client.write(Client.frame(1, Array("a".utf8)) + Client.frame(7) + Client.frame(7, Array("xy".utf8))
                     + Client.frame(42, [0]) + Client.frame(0) + Client.frame(1, Array("b".utf8)))
        let replies = client.frames(6, loop: server.loop)
        #expect(replies.map(\.msgid) == [1, 0, 7, 0, 0, 1])
        #expect(replies.map(\.text) == ["a", "bad-request msgid 7 wants a payload", "x", "unknown-msgid 42",
                                        "bad-request msgid 0 is the error frame: only the server sends it", "b"])
        #expect(client.connection.isOpen)                     // none of these ends the connection
    }

    @Test("a handler reads and writes its connection's context, which goes with the connection")
    func contextPerConnection() throws {
        let server = try makeServer()
        try server.register(8, .handler { request, reply in
            let tally = request.connection.context as? Tally ?? Tally()
            request.connection.context = tally
            tally.count += 1
            var text = "\(tally.count)"
            text.withUTF8 { reply.append(UnsafeRawBufferPointer($0)) }
        })
        weak var tally: Tally?
        do {
            let a = try Client(of: server), b = try Client(of: server)
            a.write(Client.frame(8) + Client.frame(8))
            b.write(Client.frame(8))
            #expect(a.frames(2, loop: server.loop).map(\.text) == ["1", "2"])
            #expect(b.frames(1, loop: server.loop).map(\.text) == ["1"])   // its own context
            tally = a.connection.context as? Tally
            #expect(tally?.count == 2)
            a.connection.handleClose()
        }
        server.loop.runOnce(timeout: 0)                       // the loop lets closed connections go after a wakeup
        #expect(tally == nil, "the context outlived its connection")
    }

    @Test("on-open and on-close run once per connection, whatever ends it")
    func hooksOncePerConnection() throws {
        let server = try makeServer(maxConnections: 5, maxFrame: 64)
        var opened: [ObjectIdentifier] = [], closed: [ObjectIdentifier] = []
        server.onOpen = { opened.append(ObjectIdentifier($0)) }
        server.onClose = { closed.append(ObjectIdentifier($0)) }
        try server.register(9, .handler { request, _ in request.connection.handleClose() })   // closes its own
        let byEOF = try Client(of: server), byReset = try Client(of: server), byProtocol = try Client(of: server)
        let byHandler = try Client(of: server), byStop = try Client(of: server), overLimit = try Client(of: server)
        #expect(opened.count == 6 && server.connectionCount == 5 && server.openCount == 6)
        byEOF.close()                                         // end of stream
        // A reset, Unix-socket style: closing a socketpair end with unread bytes in it makes the other
        // end's next read fail with ECONNRESET (a TCP reset does the same over TCP).
        byReset.write(Client.frame(1, Array("unread".utf8)))
        run(server.loop) {                                    // echoed: the reply waits, unread
            var ready = pollfd(fd: byReset.fd, events: Int16(POLLIN), revents: 0)
            return poll(&ready, 1, 0) == 1
        }
        byReset.close()
        byProtocol.write(Client.frame(1, [UInt8](repeating: 0, count: 65)))  // over --max-frame 64
        byHandler.write(Client.frame(9))
        #expect(overLimit.frames(1, loop: server.loop).first?.text.hasPrefix("busy ") == true)
        #expect(byProtocol.frames(1, loop: server.loop).first?.text.hasPrefix("too-large ") == true)
        #expect(byProtocol.readsEnd(loop: server.loop) == true && overLimit.readsEnd(loop: server.loop) == true)
        byProtocol.close()                                    // ... their lingering closes end with our end of stream
        overLimit.close()
        run(server.loop) { closed.count == 5 }
        #expect(Set(closed) == Set([byEOF, byReset, byProtocol, byHandler, overLimit].map { ObjectIdentifier($0.connection) }))
        server.stop()                                         // and byStop
        #expect(closed.count == 6 && Set(closed) == Set(opened) && Set(closed).count == 6)
        #expect(server.connectionCount == 0 && server.openCount == 0)
        _ = byStop
    }

    @Test("a handler that closes its connection is the last one called")
    func handlerClosingItsConnection() throws {
        let server = try makeServer()
        var calledAfterClose = false, closes = 0
        server.onClose = { _ in closes += 1 }
        try server.register(9, .handler { request, _ in request.connection.handleClose() })
        try server.register(10, .handler { _, _ in calledAfterClose = true })
        let client = try Client(of: server)
        client.write(Client.frame(9) + Client.frame(10) + Client.frame(1, Array("late".utf8)))
        #expect(client.readsEnd(loop: server.loop) == true)   // no reply at all: closed by the first handler
        #expect(!calledAfterClose, "a handler ran for a connection that was closed")
        #expect(closes == 1 && server.openCount == 0)
    }

    @Test("the connection over --max-connections gets busy and a lingering close; the others notice nothing")
    func overTheLimit() throws {
        let server = try makeServer(maxConnections: 1)
        let first = try Client(of: server)
        let second = try Client(of: server)
        #expect(server.connectionCount == 1 && server.openCount == 2)
        let refusal = second.frames(1, loop: server.loop)
        #expect(refusal.first?.msgid == 0 && refusal.first?.text.hasPrefix("busy ") == true)
        #expect(second.readsEnd(loop: server.loop) == true)  // a FIN after the frame: shutdown(SHUT_WR)
        #expect(!second.connection.isOpen && server.openCount == 2)   // still lingering: reading, discarding
        second.write([UInt8](repeating: 1, count: 100_000))   // a client still writing: discarded, no reset
        second.close()
        run(server.loop) { server.openCount == 1 }
        #expect(server.openCount == 1 && server.connectionCount == 1)
        first.write(Client.frame(1, Array("still here".utf8)))
        #expect(first.frames(1, loop: server.loop).map(\.text) == ["still here"])
        first.connection.handleClose()
        let third = try Client(of: server)                    // the slot is free again
        third.write(Client.frame(1, Array("served".utf8)))
        #expect(third.frames(1, loop: server.loop).map(\.text) == ["served"])
    }

    @Test("a lingering close flushes what is owed, shuts down writing, and closes at the peer's end of stream")
    func lingeringCloseOrder() throws {
        let server = try makeServer(maxFrame: 64 * 1024)
        let client = try Client(of: server)
        var small: CInt = 4096                                // the echo cannot all be written at once
        try #require(setsockopt(client.connection.fd, SOL_SOCKET, SO_SNDBUF, &small, socklen_t(MemoryLayout<CInt>.size)) == 0)
        let payload = [UInt8](repeating: 0x33, count: 60_000)
        client.write(Client.frame(1, payload) + Client.frame(1, [UInt8](repeating: 0, count: 0)).prefix(4) + [0, 2, 0, 0])  // then 128 KiB announced
        server.loop.runOnce(timeout: 1000)
        #expect(client.connection.output != nil)              // owed: most of the echo, and the error frame
        #expect(!client.connection.isOpen)                    // closing
        let replies = client.frames(2, loop: server.loop)
        #expect(replies.count == 2 && replies[0].text.utf8.count == payload.count)
        #expect(replies.last?.text.hasPrefix("too-large ") == true)
        #expect(client.readsEnd(loop: server.loop) == true)
        #expect(server.openCount == 1)                        // waits for our end of stream
        client.close()
        run(server.loop) { server.openCount == 0 }
        #expect(server.openCount == 0)
    }

    @Test("a half-closed peer gets everything owed before a lingering close ends")
    func halfClosedPeerGetsEverythingOwed() throws {
        let server = try makeServer(maxFrame: 64 * 1024)
        let client = try Client(of: server)
        var small: CInt = 4096
        try #require(setsockopt(client.connection.fd, SOL_SOCKET, SO_SNDBUF, &small, socklen_t(MemoryLayout<CInt>.size)) == 0)
        let payload = [UInt8](repeating: 0x44, count: 60_000)
        client.write(Client.frame(1, payload) + [0, 0, 0, 1, 0, 2, 0, 0])   // an echo, then a header announcing 128 KiB
        #expect(shutdown(client.fd, CInt(SHUT_WR)) == 0)      // "that is all; send me the rest"
        for _ in 0..<5 { server.loop.runOnce(timeout: 10) }   // the FIN is read while the echo is still owed
        let replies = client.frames(2, loop: server.loop)
        #expect(replies.count == 2 && replies.first?.text.utf8.count == payload.count, "the replies stopped short")
        #expect(replies.last?.text.hasPrefix("too-large ") == true)
        #expect(client.readsEnd(loop: server.loop) == true)
        run(server.loop) { server.openCount == 0 }
        #expect(server.openCount == 0)
    }

    @Test("a lingering close gives up after lingerBytes of input")
    func lingerIsBounded() throws {
        let server = try makeServer(maxFrame: 64)
        let client = try Client(of: server)
        client.write(Client.frame(1, [UInt8](repeating: 0, count: 65)))      // too large: closing
        #expect(client.frames(1, loop: server.loop).first?.text.hasPrefix("too-large ") == true)
        // A peer that never stops sending: after lingerBytes the server closes anyway.
        let chunk = [UInt8](repeating: 7, count: 256 * 1024)
        var sent = 0
        while sent <= TCPConnection.lingerBytes + chunk.count && server.openCount > 0 {
            let n = chunk.withUnsafeBytes { Glibc.write(client.fd, $0.baseAddress, $0.count) }
            if n > 0 { sent += n }
            if n < 0 && errno != EAGAIN { break }                // the server closed: EPIPE or ECONNRESET
            server.loop.runOnce(timeout: 1)
        }
        #expect(server.openCount == 0, "still lingering after \(sent) bytes")
        #expect(sent > TCPConnection.lingerBytes - chunk.count)
    }

    @Test("stats name every counter, in order, with the asking connection's own")
    func statsNames() throws {
        let server = try makeServer()
        let client = try Client(of: server)
        client.write(Client.frame(1, Array("x".utf8)) + Client.frame(77) + Client.frame(2))
        let replies = client.frames(3, loop: server.loop)
        let lines = try #require(replies.last).text.split(separator: "\n").map { $0.split(separator: " ") }
        #expect(lines.map { String($0[0]) } == ["connections_open", "connections_total", "connections_refused", "frames_in",
            "frames_out", "bytes_in", "bytes_out", "errors_too_large", "errors_bad_request", "errors_unknown_msgid",
            "errors_busy", "requests_msgid_1", "requests_msgid_2", "requests_msgid_3", "requests_msgid_4", "requests_unknown_msgid",
            "fds_open", "connection_stats_requests", "timers_active", "timers_fired", "loop_lag_last_us", "loop_lag_max_us",
            "timeouts_idle", "timeouts_frame", "timeouts_write", "io_threads", "loop_0_connections", "workers", "worker_queue",
            "worker_jobs_running", "worker_jobs_done", "worker_jobs_refused", "worker_jobs_skipped", "worker_results_dropped"])
        let value = Dictionary(uniqueKeysWithValues: lines.map { (String($0[0]), Int($0[1]) ?? -1) })
        #expect(value["connections_open"] == 1 && value["frames_in"] == 3 && value["frames_out"] == 2)
        #expect(value["bytes_in"] == 9 + 8 + 8 && value["bytes_out"] == 9 + 8 + "unknown-msgid 77".utf8.count)
        #expect(value["errors_unknown_msgid"] == 1 && value["requests_unknown_msgid"] == 1 && value["requests_msgid_2"] == 1)
        #expect((value["fds_open"] ?? 0) > 3 && value["connection_stats_requests"] == 1)
    }
}
