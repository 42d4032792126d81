// SocketTests.swift: the socket calls of v0.1, in one process over 127.0.0.1.
import enum Conformance.ProcessStats
import func Conformance.socketsInheritedByAChild
import func Conformance.sysConnect
import func Conformance.sysParseIPv4
import func Conformance.sysPoll
import func Conformance.sysReadSmallFile
import func Conformance.sysSocketTCP
import Glibc
import Testing
@testable import Net_v0_3

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

    @Test("a restarted server binds its port while old connections wait in TIME_WAIT")
    func restartDuringTimeWait() throws {
        // Up to three rounds, each on a new port. Without SO_REUSEADDR every round fails (TIME_WAIT
        // lasts 60 s). With it, CI once saw EADDRINUSE here all the same, on a loaded machine with
        // hundreds of tests beside this one; the cause was not found. So a failed round prints what
        // the kernel holds on that port, and the next round tries again.
        var failure: (any Error)?
        for _ in 1...3 {
            let listener = try Socket.listen(on: loopback)
            let address = try #require(try listener.localAddress())
            let client = try Socket.connect(to: address)
            var peer: SocketAddress?
            guard let accepted = try listener.accept(peer: &peer) else {
                Issue.record("accept found no connection")
                return
            }
            accepted.close()                                      // the server closes first: its side waits in TIME_WAIT
            listener.close()
            _ = consume client
            // SO_REUSEADDR lets the new listener bind the port all the same (without it: EADDRINUSE).
            do {
                let restarted = try Socket.listen(on: address)
                #expect(try restarted.localAddress()?.port == address.port)
                return
            } catch {
                let held = ProcessStats.tcpSockets(onPort: address.port).joined(separator: "\n")
                print("restartDuringTimeWait: \(error); /proc/net/tcp on port \(address.port):\n\(held)")
                failure = error
            }
        }
        throw failure!
    }

    @Test("connect to a port with no listener is ECONNREFUSED")
    func connectRefused() throws {
        // A socket bound to a port but not listening: a connect there is refused, and while it is
        // open no test running beside this one can take the port. (A port bound and closed again
        // would be free for them.)
        let bound = Socket(fd: try sysSocket(AF_INET, CInt(SOCK_STREAM.rawValue)))
        try sysBind(bound.fd, loopback)
        let port = try #require(try bound.localAddress()).port
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

    @Test("a spawned child inherits none of our sockets")
    func childInheritsNoSocket() throws {
        let listener = try Socket.listen(on: loopback)
        let client = try Socket.connect(to: try #require(try listener.localAddress()))
        var peer: SocketAddress?
        guard let accepted = try listener.accept(peer: &peer) else {
            Issue.record("accept found no connection")
            return
        }
        #expect(try socketsInheritedByAChild([listener.fd, client.fd, accepted.fd]) == [])
    }

    @Test("an accepted socket has TCP_NODELAY")
    func acceptedSocketHasNoDelay() throws {
        let listener = try Socket.listen(on: loopback)
        let client = try Socket.connect(to: try #require(try listener.localAddress()))
        var peer: SocketAddress?
        guard let accepted = try listener.accept(peer: &peer) else {
            Issue.record("accept found no connection")
            return
        }
        var value: CInt = 0
        var length = socklen_t(MemoryLayout<CInt>.size)
        #expect(getsockopt(accepted.fd, CInt(IPPROTO_TCP), TCP_NODELAY, &value, &length) == 0)
        #expect(value != 0, "Nagle's algorithm is still on for the accepted socket")
        _ = consume client
    }

    @Test("the listen backlog holds a burst of 200 connections")
    func backlogHoldsABurst() throws {
        let limit = Int(String(decoding: try sysReadSmallFile("/proc/sys/net/core/somaxconn"), as: UTF8.self)
            .filter(\.isNumber)) ?? 0
        try #require(limit >= 200, "net.core.somaxconn is \(limit): too small on this machine to show a backlog of 200")
        let listener = try Socket.listen(on: loopback)          // nobody accepts: they all wait in the backlog
        let address = try #require(try listener.localAddress())
        var entries: [pollfd] = []
        defer { entries.forEach { _ = close($0.fd) } }
        for _ in 0..<200 {
            let fd = try sysSocketTCP()
            entries.append(pollfd(fd: fd, events: Int16(POLLOUT), revents: 0))
            _ = try sysConnect(fd, to: try #require(sysParseIPv4("127.0.0.1")), port: address.port)
        }
        // A dropped SYN is sent again after 1 s, then 3 s: 3 s is enough to tell "all queued" from
        // "the backlog filled up".
        let deadline = ContinuousClock.now + .seconds(3)
        var done = 0
        while done < entries.count && ContinuousClock.now < deadline {
            _ = try sysPoll(&entries, timeoutMilliseconds: 100)
            for i in entries.indices where entries[i].revents != 0 && entries[i].events != 0 {
                var err: CInt = 0
                var length = socklen_t(MemoryLayout<CInt>.size)
                #expect(getsockopt(entries[i].fd, SOL_SOCKET, SO_ERROR, &err, &length) == 0 && err == 0)
                entries[i].events = 0
                done += 1
            }
        }
        #expect(done == 200, "only \(done) of 200 connections completed: the listen backlog is smaller than 200")
    }

    @Test("a call on a closed fd stops the program")
    func closedFDStopsTheProgram() async {
        await #expect(processExitsWith: .failure) {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 1)
            _ = try? sysRead(-1, into: buffer)               // EBADF: our bug, not the peer's
        }
        await #expect(processExitsWith: .failure) {
            let listener = try Socket.listen(on: SocketAddress(host: "127.0.0.1", port: 0)!)
            sysClose(listener.fd)
            sysClose(listener.fd)                            // a double close: EBADF
        }
        await #expect(processExitsWith: .failure) {
            let notListening = Socket(fd: try sysSocket(AF_INET, CInt(SOCK_STREAM.rawValue)))
            var peer: SocketAddress?
            _ = try? notListening.accept(peer: &peer)          // EINVAL: accept on a socket that is not listening
        }
    }

    @Test("accept retries the errors of one connection")
    func transientAcceptErrors() {
        for err in [ECONNABORTED, EPROTO, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH, EPERM] {
            #expect(isTransientAcceptError(err), "\(errnoName(err)) ends only that connection: accept the next")
        }
        for err in [EMFILE, ENFILE, ENOBUFS, ENOMEM, EBADF, EINVAL] {
            #expect(!isTransientAcceptError(err), "\(errnoName(err)) would come back at once: not retried")
        }
    }

    @Test("errno is read right after the call, before anything else")
    func errnoIsReadAtOnce() async {
        await #expect(processExitsWith: .success) {
            let first = try Socket.listen(on: SocketAddress(host: "127.0.0.1", port: 0)!)
            let busy = SocketAddress(host: "127.0.0.1", port: try first.localAddress()!.port)!
            // From here on, anything that writes to stderr fails, and leaves EBADF in errno: code that
            // logs before it reads errno reports the wrong error (and EBADF stops the program).
            _ = close(2)
            var status: CInt = 1
            do {
                _ = try Socket.listen(on: busy)
            } catch let error as SystemError {
                status = error.errno == EADDRINUSE ? 0 : 1
            }
            _ = first.fd
            exit(status)
        }
    }
}
