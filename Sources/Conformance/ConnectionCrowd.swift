// ConnectionCrowd.swift: many client connections at once, driven from one thread by one poll(2).
import Glibc

/// Many connections to the server, open at the same time, driven together: one poll(2) over every
/// socket per step, no thread per client, one deadline for all. Clients are numbered from 1 in
/// messages ("client 17 of 200").
///
/// Owns its sockets; closes them all exactly once, in `close()` or else in `deinit`.
final class ConnectionCrowd {
    /// Where each connection stands. `failed` keeps the errno its connect failed with.
    enum State: Equatable {
        case connecting, connected, failed(CInt)
    }

    private var fds: [CInt] = []
    private var states: [State] = []
    let address: ServerAddress

    /// Starts a non-blocking connect(2) for each of `count` sockets, waiting for none of them:
    /// 200 SYNs reach the server at once, as a storm of clients would.
    init(count: Int, to address: ServerAddress) throws {
        guard let ip = sysParseIPv4(address.host) else { throw CheckFailure("\(address.host) is not an IPv4 address") }
        self.address = address
        for _ in 0..<count {
            let fd = try sysSocketTCP()      // on failure, deinit closes the ones already open
            fds.append(fd)
            do {
                states.append(try sysConnect(fd, to: ip, port: address.port) ? .connected : .connecting)
            } catch let error as SystemError {
                states.append(.failed(error.errno))
            }
        }
    }

    deinit { close() }

    var count: Int { fds.count }

    func close() {
        for fd in fds where fd >= 0 { sysClose(fd) }
        fds = fds.map { _ in -1 }
    }

    /// Waits until no connect is in progress any more (each one has connected or failed), or until
    /// `deadline`. Returns how many are still connecting (0 = all settled).
    @discardableResult
    func awaitConnects(until deadline: Deadline) throws -> Int {
        while true {
            let waiting = states.indices.filter { states[$0] == .connecting }
            if waiting.isEmpty || deadline.hasPassed { return waiting.count }
            var entries = waiting.map { pollfd(fd: fds[$0], events: Int16(POLLOUT), revents: 0) }
            if try sysPoll(&entries, timeoutMilliseconds: deadline.pollTimeout()) == 0 { continue }
            for (slot, index) in waiting.enumerated() where entries[slot].revents != 0 {
                let err = try sysSocketError(fds[index])
                states[index] = err == 0 ? .connected : .failed(err)
            }
        }
    }

    /// Connects every client, then has client i send `messages[i]` and receive exactly
    /// `messages[i].count` bytes back, all of them at once; returns what each received.
    ///
    /// - Throws: CheckFailure if a connect fails or is still in progress at the deadline, if a
    ///   client meets EOF or a reset, or if any is still waiting at the deadline: the message says
    ///   how many were done and shows the first one still waiting.
    func exchange(_ messages: [[UInt8]], deadline: Deadline) throws -> [[UInt8]] {
        precondition(messages.count == fds.count, "one message per client")
        let stillConnecting = try awaitConnects(until: deadline)
        for (index, state) in states.enumerated() {
            if case .failed(let err) = state { throw CheckFailure("client \(index + 1) of \(count): connect to \(address): \(errnoName(err))") }
        }
        if stillConnecting > 0 {
            throw CheckFailure("\(stillConnecting) of \(count) connects still in progress at the \(deadline.span.readable) limit"
                + " (\(count - stillConnecting) completed): is the server accepting? Past its listen backlog, new SYNs are dropped")
        }
        var sent = [Int](repeating: 0, count: count)
        var received = messages.map { [UInt8](repeating: 0, count: $0.count) }
        var got = [Int](repeating: 0, count: count)
        while true {
            let busy = fds.indices.filter { sent[$0] < messages[$0].count || got[$0] < messages[$0].count }
            if busy.isEmpty { return received }
            if deadline.hasPassed {
                let first = busy[0]
                throw CheckFailure("timed out at the \(deadline.span.readable) limit: \(count - busy.count) of \(count) clients got their"
                    + " whole echo; client \(first + 1) (the first still waiting) had sent \(sent[first]) of \(messages[first].count)"
                    + " bytes and received \(got[first])")
            }
            var entries = busy.map { index in
                let events = (sent[index] < messages[index].count ? POLLOUT : 0) | (got[index] < messages[index].count ? POLLIN : 0)
                return pollfd(fd: fds[index], events: Int16(events), revents: 0)
            }
            if try sysPoll(&entries, timeoutMilliseconds: deadline.pollTimeout()) == 0 { continue }
            for (slot, index) in busy.enumerated() where entries[slot].revents != 0 {
                let what = "client \(index + 1) of \(count)"
                if sent[index] < messages[index].count {
                    sent[index] += try sendSome(fds[index], messages[index], from: sent[index], what: what)
                }
                if got[index] < messages[index].count {
                    got[index] += try readSome(fds[index], into: &received[index], from: got[index], what: what)
                }
            }
        }
    }

    /// One send(2) of what is left; 0 if the socket buffer is full.
    private func sendSome(_ fd: CInt, _ bytes: [UInt8], from offset: Int, what: String) throws -> Int {
        do {
            return try bytes.withUnsafeBytes { try sysSend(fd, UnsafeRawBufferPointer(rebasing: $0[offset...])) } ?? 0
        } catch let error as SystemError {
            throw CheckFailure("\(what): sending: \(errnoName(error.errno)) after \(offset) of \(bytes.count) bytes")
        }
    }

    /// One read(2) into the rest of `buffer`; 0 if nothing has arrived. EOF before the whole echo fails.
    private func readSome(_ fd: CInt, into buffer: inout [UInt8], from offset: Int, what: String) throws -> Int {
        let n: Int?
        do {
            n = try buffer.withUnsafeMutableBytes { try sysRead(fd, into: UnsafeMutableRawBufferPointer(rebasing: $0[offset...])) }
        } catch let error as SystemError {
            throw CheckFailure("\(what): expected its echo, got \(errnoName(error.errno)) after \(offset) of \(buffer.count) bytes")
        }
        if n == 0 { throw CheckFailure("\(what): expected its echo, got EOF after \(offset) of \(buffer.count) bytes") }
        return n ?? 0
    }
}
