// TimeoutsTests.swift: v0.6's per-connection deadlines and output water marks, in one process over
// socketpairs (the Client helper of ConnectionManagementTests), on the real clock with short timeouts.
import Glibc
import Testing
@testable import Net_v0_6

/// Turns the loop for `duration` of real time.
private func turn(_ loop: EventLoop, for duration: Duration) {
    let end = ContinuousClock.now + duration
    while ContinuousClock.now < end { loop.runOnce(timeout: 5) }
}

/// Turns the loop until `done()`, for at most 10 s: a deadline may pass late on a loaded machine,
/// never early, so a test waits for the close rather than for a fixed time.
private func turn(_ loop: EventLoop, until done: () -> Bool) {
    let end = ContinuousClock.now + .seconds(10)
    while !done() && ContinuousClock.now < end { loop.runOnce(timeout: 5) }
}

@Suite struct TimeoutsTests {
    @Test("an idle connection is closed after --idle-timeout, and an active one is not")
    func idle() throws {
        let server = try makeServer(timeouts: Timeouts(idle: .milliseconds(200)))
        let idle = try Client(of: server), active = try Client(of: server)
        let started = ContinuousClock.now
        for round in 0..<12 {                                 // 600 ms of an echo every 50 ms
            active.write(Client.frame(1, Array("round \(round)".utf8)))
            #expect(active.frames(1, loop: server.loop).map(\.text) == ["round \(round)"])
            turn(server.loop, for: .milliseconds(50))
        }
        #expect(!idle.connection.isOpen && idle.readsEnd(loop: server.loop) == true)
        #expect(active.connection.isOpen, "an active connection was closed")
        #expect(ContinuousClock.now - started >= .milliseconds(200))
        #expect(server.stats.timeouts[.idle] == 1)
    }

    @Test("a connection that took a long reply is idle from its last byte, not from its request")
    func idleAfterDownload() throws {
        let server = try makeServer(timeouts: Timeouts(idle: .milliseconds(300)))
        let client = try Client(of: server)
        var small: CInt = 4096
        try #require(setsockopt(client.connection.fd, SOL_SOCKET, SO_SNDBUF, &small, socklen_t(MemoryLayout<CInt>.size)) == 0)
        let frame = Client.frame(1, [UInt8](repeating: 0x44, count: 200_000))
        client.write(frame)
        var chunk = [UInt8](repeating: 0, count: 8192), got = 0
        for _ in 0..<400 where got < frame.count {            // about 500 ms of reading, 8 KiB per 20 ms
            let n = read(client.fd, &chunk, chunk.count)
            if n > 0 { got += n }
            turn(server.loop, for: .milliseconds(20))
        }
        #expect(got == frame.count)
        #expect(client.connection.isOpen, "closed as idle right after a download longer than the idle timeout")
        turn(server.loop) { !client.connection.isOpen }
        #expect(!client.connection.isOpen, "not closed 10 s after the download, with --idle-timeout 300ms")
    }

    @Test("a frame not finished in --frame-timeout is closed at the deadline, however slowly its bytes come")
    func slowloris() throws {
        let server = try makeServer(timeouts: Timeouts(frame: .milliseconds(300)))
        let client = try Client(of: server)
        let frame = Client.frame(1, [UInt8](repeating: 0x41, count: 12))         // 20 bytes: 1 s at 1 byte per 50 ms
        var sent = 0
        while sent < frame.count && client.connection.isOpen {
            client.write([frame[sent]])
            sent += 1
            turn(server.loop, for: .milliseconds(50))
        }
        #expect(!client.connection.isOpen, "still open after the whole frame, one byte at a time")
        #expect(sent < frame.count)
        #expect(server.stats.timeouts[.frame] == 1)
    }

    @Test("a peer that takes none of what it is owed is closed at --write-timeout")
    func writeStall() throws {
        let server = try makeServer(timeouts: Timeouts(write: .milliseconds(300)))
        let client = try Client(of: server)
        var small: CInt = 4096
        try #require(setsockopt(client.connection.fd, SOL_SOCKET, SO_SNDBUF, &small, socklen_t(MemoryLayout<CInt>.size)) == 0)
        client.write(Client.frame(1, [UInt8](repeating: 0x42, count: 100_000)))  // its echo cannot all go out
        turn(server.loop, for: .milliseconds(100))
        #expect(client.connection.output != nil && client.connection.isOpen)
        turn(server.loop) { !client.connection.isOpen }
        #expect(!client.connection.isOpen, "not closed 10 s into a write stall, with --write-timeout 300ms")
        #expect(server.stats.timeouts[.write] == 1)
    }

    @Test("above the high-water mark the server stops reading a peer; at the low one it reads again")
    func waterMarks() throws {
        let server = try makeServer()
        server.loop.outputHighWater = 64 * 1024
        server.loop.outputLowWater = 16 * 1024
        let client = try Client(of: server)
        var small: CInt = 4096
        try #require(setsockopt(client.connection.fd, SOL_SOCKET, SO_SNDBUF, &small, socklen_t(MemoryLayout<CInt>.size)) == 0)
        let frame = Client.frame(1, [UInt8](repeating: 0x43, count: 1000))
        var sent = 0, most = 0
        for _ in 0..<2000 {                                   // write until the socket takes no more; never read
            let n = frame.withUnsafeBytes { Glibc.write(client.fd, $0.baseAddress, $0.count) }
            if n > 0 { sent += n } else { server.loop.runOnce(timeout: 5) }
            server.loop.runOnce(timeout: 0)
            most = max(most, client.connection.output?.readableCount ?? 0)
        }
        // One read's worth past the mark at most: a read is answered whole before the check.
        #expect(most >= 64 * 1024 && most <= 64 * 1024 + EventLoop.readBufferSize + frame.count, "owed \(most)")
        #expect(sent > 0 && sent < 2000 * frame.count)       // the server stopped reading: our writes stopped
        #expect(!client.connection.isReading)               // past the mark: stopped
        // Now take the echo 4 KiB at a time: reading must resume at the low mark, while output is still owed.
        var chunk = [UInt8](repeating: 0, count: 4096)
        var resumedWhileOwed = false
        for _ in 0..<5000 where !resumedWhileOwed && client.connection.output != nil {
            _ = read(client.fd, &chunk, chunk.count)
            server.loop.runOnce(timeout: 1)
            resumedWhileOwed = client.connection.isReading && client.connection.output != nil
        }
        #expect(resumedWhileOwed, "reading resumed only once everything owed was out, not at the low-water mark")
        #expect(client.connection.isOpen)
    }
}
