// WireConnection.swift: the checker's client socket: non-blocking, every operation bounded by a deadline.
import Glibc

/// One TCP connection from the checker to the server under test.
///
/// The server may be anyone's, and may stall, so nothing here blocks: the socket is non-blocking and
/// every wait is a poll(2) bounded by `deadline` (the running behaviour's). Every failure is a
/// CheckFailure that says what was awaited and what came instead.
///
/// Owns `fd`; closes it exactly once, in `close()` or else in `deinit`, however a behaviour exits.
///
/// A final class, not a `~Copyable` struct: with Swift 6.3.1 debug builds, a `~Copyable` struct
/// that stores a clock `Instant` (our `deadline`) skips its `deinit` when used from another file,
/// which here leaked every connection.
public final class WireConnection {
    private var fd: CInt
    public let deadline: Deadline

    /// Connects to `address`: a non-blocking connect(2), then poll for POLLOUT and read SO_ERROR.
    public init(connectingTo address: ServerAddress, deadline: Deadline) throws {
        guard let ip = sysParseIPv4(address.host) else { throw CheckFailure("\(address.host) is not an IPv4 address") }
        let fd = try sysSocketTCP()
        var failure: String? = nil
        do {
            if try !sysConnect(fd, to: ip, port: address.port) {
                var revents: Int16 = 0
                while revents == 0 && !deadline.hasPassed {
                    revents = try sysPoll(fd, events: Int16(POLLOUT), timeoutMilliseconds: deadline.pollTimeout())
                }
                let err = try sysSocketError(fd)
                if err != 0 {
                    failure = "connect to \(address): \(errnoName(err))"
                } else if revents == 0 {
                    failure = "connect to \(address): no answer within the behaviour's \(deadline.span.readable) limit (is its listen backlog full?)"
                }
            }
        } catch {
            failure = "connect to \(address): \(error)"
        }
        if let failure {
            sysClose(fd)
            throw CheckFailure(failure)
        }
        self.fd = fd
        self.deadline = deadline
    }

    deinit { close() }

    /// Closes the connection now; later operations fail with EBADF.
    public func close() {
        if fd >= 0 { sysClose(fd) }
        fd = -1
    }

    /// Closes with RST instead of FIN (SO_LINGER 0), dropping anything unsent or unread: to the
    /// server this looks like a peer that crashed or was killed mid-conversation.
    public func reset() throws {
        defer { close() }
        try sysSetLingerZero(fd)
    }

    /// Sends all of `bytes`, waiting for room in the socket buffer as often as needed.
    /// Use it for messages small enough that the server's echo cannot fill both socket buffers
    /// before we read; for big ones use `exchange`.
    public func send(_ bytes: [UInt8], what: String) throws {
        var sent = 0
        while sent < bytes.count {
            if let n = try sendSome(bytes, from: sent, what: what) {
                sent += n
            } else {
                try waitFor(Int16(POLLOUT), what: "sending \(what) (\(sent) of \(bytes.count) bytes sent)")
            }
        }
    }

    /// Sends `bytes` with one send(2) per byte and TCP_NODELAY, 1 ms apart, so that a server sees
    /// them arrive in as many reads as it makes: without the pause, a server that is not already
    /// waiting in read(2) finds every byte there at once. (Pacing, not synchronisation: nothing
    /// waits on it, and a server passes or fails the same whatever the timing.)
    public func sendOneByteAtATime(_ bytes: [UInt8], what: String) throws {
        try sysSetNoDelay(fd)
        for index in bytes.indices {
            try send([bytes[index]], what: "byte \(index) of \(what)")
            sysSleep(.milliseconds(1))
        }
    }

    /// Sends as much of `bytes[offset...]` as the socket takes now, without waiting; returns how
    /// many bytes went (0 when its buffer is full). For a peer that pushes while the server may
    /// have stopped reading it (backpressure), where waiting for room could wait forever.
    public func sendAvailable(_ bytes: [UInt8], from offset: Int = 0, what: String) throws -> Int {
        var sent = offset
        while sent < bytes.count, let n = try sendSome(bytes, from: sent, what: what) { sent += n }
        return sent - offset
    }

    /// Waits up to `wait` (and never past the deadline) until the socket can take more bytes.
    /// Returns false if it could not: the server has stopped reading us, or is slow.
    public func awaitWritable(within wait: Duration) throws -> Bool {
        let until = Deadline.after(wait, within: deadline)
        while !until.hasPassed {
            if try sysPoll(fd, events: Int16(POLLOUT), timeoutMilliseconds: until.pollTimeout()) != 0 { return true }
        }
        return false
    }

    /// Waits up to `wait` (and never past the deadline) until bytes (or the end of the stream) can be
    /// read, without reading them. Returns false if nothing came.
    public func awaitReadable(within wait: Duration) throws -> Bool {
        let until = Deadline.after(wait, within: deadline)
        while !until.hasPassed {
            if try sysPoll(fd, events: Int16(POLLIN), timeoutMilliseconds: until.pollTimeout()) != 0 { return true }
        }
        return false
    }

    /// Receives whatever has arrived, at most `limit` bytes, without waiting: [] if nothing has.
    /// Fails on end of stream or a reset: the caller expects more.
    public func receiveAvailable(upTo limit: Int, what: String) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: limit)
        let n = try bytes.withUnsafeMutableBytes { try readSome(into: $0, what: what, got: 0, of: limit) }
        guard let n else { return [] }
        if n == 0 { throw CheckFailure("expected \(what): got EOF") }
        return Array(bytes[..<n])
    }

    /// Sends FIN: the server reads end of stream, and we can still read its replies.
    public func shutdownWrite() throws {
        try sysShutdownWrite(fd)
    }

    /// Receives exactly `count` bytes; fails on end of stream, a reset or the deadline.
    public func receive(exactly count: Int, what: String) throws -> [UInt8] {
        try exchange(sending: [], receiving: count, what: what)
    }

    /// Sends `bytes` and receives `count` bytes at the same time: one poll for both directions.
    ///
    /// PITFALL: send everything first, then read, and a big echo deadlocks against a server that
    /// echoes as it reads: its writes stop when our receive buffer is full, so it stops reading,
    /// so our sends stop when its receive buffer is full. Both sides wait forever.
    public func exchange(sending bytes: [UInt8], receiving count: Int, what: String) throws -> [UInt8] {
        var received = [UInt8](repeating: 0, count: count)
        var sent = 0, got = 0
        while sent < bytes.count || got < count {
            var progress = false
            if sent < bytes.count, let n = try sendSome(bytes, from: sent, what: what) {
                sent += n
                progress = true
            }
            if got < count {
                let n = try received.withUnsafeMutableBytes { buffer in
                    try readSome(into: UnsafeMutableRawBufferPointer(rebasing: buffer[got...]), what: what, got: got, of: count)
                }
                if let n {
                    if n == 0 { throw CheckFailure("expected \(what): got EOF after \(got) of \(count) bytes") }
                    got += n
                    progress = true
                }
            }
            if !progress {
                let events = Int16(sent < bytes.count ? POLLOUT : 0) | Int16(got < count ? POLLIN : 0)
                let sending = bytes.isEmpty ? "" : "\(sent) of \(bytes.count) bytes sent, "
                try waitFor(events, what: "\(what) (\(sending)\(got) of \(count) received)")
            }
        }
        return received
    }

    /// Sends all of `bytes`, then FIN, then receives `count` bytes, like a client that writes its
    /// whole request before it reads. It reads earlier only when the socket has taken nothing for
    /// `patience` (the server has stopped reading until we read: backpressure), and then only what
    /// has arrived: so the server meets end of stream still owing us as much echo as it holds.
    public func sendAllThenFIN(_ bytes: [UInt8], receiving count: Int, patience: Duration = .milliseconds(100),
                               what: String) throws -> [UInt8] {
        var received: [UInt8] = []
        var sent = 0
        while sent < bytes.count {
            let n = try sendAvailable(bytes, from: sent, what: what)
            sent += n
            guard n == 0, try !awaitWritable(within: patience) else { continue }
            if deadline.hasPassed {
                throw CheckFailure("timed out at the behaviour's \(deadline.span.readable) limit, sending \(what)"
                    + " (\(sent) of \(bytes.count) bytes sent, \(received.count) of \(count) received)")
            }
            while received.count < count {
                let chunk = try receiveAvailable(upTo: min(1 << 20, count - received.count), what: what)
                if chunk.isEmpty { break }
                received += chunk
            }
        }
        try shutdownWrite()
        return received + (try receive(exactly: count - received.count, what: "\(what), after FIN (\(received.count) received before)"))
    }

    /// Expects the server to close the connection: end of stream (or a reset) with no more bytes.
    public func expectEnd(after what: String) throws {
        try awaitEnd(after: what, resetIsFine: true)   // a close with unread data in its buffer sends RST: fine
    }

    /// Expects a clean end of stream (FIN) and no more bytes: a reset fails, for it means the server
    /// closed with our bytes unread instead of a lingering close.
    public func expectCleanEnd(after what: String) throws {
        try awaitEnd(after: what, resetIsFine: false)
    }

    private func awaitEnd(after what: String, resetIsFine: Bool) throws {
        var byte: [UInt8] = [0]
        while true {
            let n: Int?
            do {
                n = try byte.withUnsafeMutableBytes { try sysRead(fd, into: $0) }
            } catch let error as SystemError where error.errno == ECONNRESET || !resetIsFine {
                if resetIsFine { return }
                throw CheckFailure("expected end of stream after \(what), got \(errnoName(error.errno)): the server closed with"
                    + " our bytes unread, which sends a reset (a lingering close reads them first)")
            }
            switch n {
            case 0?: return
            case _?: throw CheckFailure("expected the connection to close after \(what), got more bytes (first: \(hex(byte[0])))")
            case nil: try waitFor(Int16(POLLIN), what: "the server to close the connection after \(what)")
            }
        }
    }

    /// Whether the server has ended the connection (end of stream, or a reset), without waiting: any
    /// bytes that arrived meanwhile are read and dropped.
    public func hasEnded() throws -> Bool {
        var scratch = [UInt8](repeating: 0, count: 4096)
        while true {
            let n: Int?
            do {
                n = try scratch.withUnsafeMutableBytes { try sysRead(fd, into: $0) }
            } catch let error as SystemError where error.errno == ECONNRESET {
                return true
            }
            guard let n else { return false }               // EAGAIN: still open
            if n == 0 { return true }
        }
    }

    /// Whether the server has closed or reset the connection, without reading anything (reading would
    /// take bytes the server is waiting for us to take: a write deadline would never come): poll(2)
    /// for the peer's FIN (POLLRDHUP) or a reset (POLLHUP, POLLERR).
    public func peerHasClosed() throws -> Bool {
        let pollRDHUP: Int16 = 0x2000                       // POLLRDHUP, which Glibc's Swift module does not export
        let revents = try sysPoll(fd, events: pollRDHUP, timeoutMilliseconds: 0)
        return revents & (pollRDHUP | Int16(POLLHUP) | Int16(POLLERR)) != 0
    }

    /// Sends all of `bytes` without reading anything, waiting for room as often as needed: a client
    /// that writes its whole request before it looks at a reply. Fails if a send fails (EPIPE,
    /// ECONNRESET: the server closed on us) or no room comes for the rest of the deadline.
    public func sendWithoutReading(_ bytes: [UInt8], what: String) throws {
        var sent = 0
        while sent < bytes.count {
            sent += try sendAvailable(bytes, from: sent, what: what)
            if sent < bytes.count, try !awaitWritable(within: deadline.remaining) {
                throw CheckFailure("timed out at the behaviour's \(deadline.span.readable) limit, sending \(what)"
                    + " (\(sent) of \(bytes.count) bytes sent, nothing read): the server stopped reading us")
            }
        }
    }

    // MARK: one step each, never waiting

    private func sendSome(_ bytes: [UInt8], from offset: Int, what: String) throws -> Int? {
        do {
            return try bytes.withUnsafeBytes { try sysSend(fd, UnsafeRawBufferPointer(rebasing: $0[offset...])) }
        } catch let error as SystemError {
            throw CheckFailure("sending \(what): \(error.errno == EPIPE ? "EPIPE (the server closed the connection)" : errnoName(error.errno)) after \(offset) of \(bytes.count) bytes")
        }
    }

    private func readSome(into buffer: UnsafeMutableRawBufferPointer, what: String, got: Int, of count: Int) throws -> Int? {
        do {
            return try sysRead(fd, into: buffer)
        } catch let error as SystemError {
            throw CheckFailure("expected \(what): got \(errnoName(error.errno)) after \(got) of \(count) bytes")
        }
    }

    /// Polls for `events` until the deadline; POLLERR/POLLHUP also return (the next read or send
    /// reports what happened).
    private func waitFor(_ events: Int16, what: String) throws {
        let revents = try sysPoll(fd, events: events, timeoutMilliseconds: deadline.pollTimeout())
        if revents == 0 && deadline.hasPassed { throw CheckFailure("timed out at the behaviour's \(deadline.span.readable) limit, waiting for \(what)") }
    }
}

/// `0x2a`: how messages show a byte.
func hex(_ byte: UInt8) -> String {
    (byte < 0x10 ? "0x0" : "0x") + String(byte, radix: 16)
}
