// TCPClientTests.swift: the non-blocking client: connect results through callbacks, reconnect with
// backoff, bytes queued before the connection is up, its lifetime, and the client program at 200
// connections.
import Conformance
import Glibc
import Testing
@testable import Net_v0_7

@Suite(.timeLimit(.minutes(5))) struct TCPClientTests {
    let loopback = SocketAddress(host: "127.0.0.1", port: 0)!

    /// A port that is bound but not listening: connects to it are refused until `listen` is called on
    /// the returned socket, which then makes the same port accept, with no race for the number.
    func reservedPort(_ address: inout SocketAddress) throws -> Socket {
        let socket = Socket(fd: try sysSocket(AF_INET, CInt(SOCK_STREAM.rawValue)))
        try sysSetIntOption(socket.fd, SOL_SOCKET, SO_REUSEADDR, 1)
        try sysBind(socket.fd, loopback)
        guard let bound = try socket.localAddress() else { throw CheckFailure("no local address") }
        address = bound
        return socket
    }

    /// Runs `loop` until `done()` or 10 s.
    func run(_ loop: EventLoop, until done: () -> Bool) {
        let limit = ContinuousClock.now + .seconds(10)
        while !done() && ContinuousClock.now < limit { loop.runOnce(timeout: 50) }
    }

    @Test("a refused connection is reported through the error callback")
    func refused() throws {
        var address = loopback
        let reserved = try reservedPort(&address)      // closed by its deinit when the test ends
        let loop = try EventLoop()
        let client = TCPClient(loop: loop, address: address, backoff: .once)
        var errors: [CInt] = []
        var closes = 0
        var connected = false
        client.onError = { _, error in errors.append((error as? Net_v0_7.SystemError)?.errno ?? -1) }
        client.onConnected = { _ in connected = true }
        client.onClosed = { _ in closes += 1 }
        client.connect()
        run(loop) { closes > 0 }
        #expect(errors == [ECONNREFUSED])
        #expect(!connected, "a refused connect was taken for a connection: SO_ERROR not checked?")
        #expect(client.state == .closed)
        #expect(closes == 1)
    }

    @Test("a server started after the client is reached by the reconnect")
    func reconnectReachesLateServer() throws {
        var address = loopback
        let reserved = try reservedPort(&address)
        let reservedFD = reserved.fd
        let loop = try EventLoop()
        let client = TCPClient(loop: loop, address: address,
                               backoff: Backoff(initialDelay: .milliseconds(10), maximumDelay: .milliseconds(80), attempts: 20))
        var failures = 0
        var connected = false
        client.onError = { _, _ in
            failures += 1
            if failures == 2 { try? sysListen(reservedFD, 16) }     // the server comes up now
        }
        client.onConnected = { _ in connected = true }
        client.connect()
        run(loop) { connected || client.state == .closed }
        #expect(connected)
        #expect(failures == 2)
        client.disconnect()
        _ = consume reserved
    }

    @Test("frames sent before the connection is up go out first, in order")
    func queuedBeforeConnected() throws {
        let server = try EchoServer(address: loopback)
        let client = TCPClient(loop: server.loop, address: server.address)
        let codec = FrameCodec()
        var echoed: [UInt8] = []                              // each echo's one payload byte
        client.onMessage = { _, bytes in
            var used = 0
            while let header = try? codec.nextFrame(in: bytes, at: used) {
                echoed.append(bytes[used + FrameHeader.size])
                used += header.frameSize
            }
            return used
        }
        for number: UInt8 in [1, 2, 3] {
            let frame = IOBuffer(capacity: 16)
            [number].withUnsafeBytes { codec.encode(msgid: 1, payload: $0, into: frame) }
            frame.withReadableBytes { client.send($0) }                 // state is .idle: queued
        }
        client.onConnected = { client in                      // sent once connected: must come after
            let frame = IOBuffer(capacity: 16)
            [4].withUnsafeBytes { codec.encode(msgid: 1, payload: $0, into: frame) }
            frame.withReadableBytes { client.send($0) }
        }
        client.connect()
        run(server.loop) { echoed.count == 4 }
        #expect(echoed == [1, 2, 3, 4])
        client.disconnect()
    }

    func binary(_ name: String) throws -> String {
        shellQuoted(try #require(builtProduct(name), "\(name) is missing: build it first (swift build)"))
    }

    @Test("200 connections from one client process, every echo verified")
    func twoHundredConnections() throws {
        let process = try ServerProcess.start(command: try binary("v0.7-server"), readyTimeout: .seconds(15))
        defer { process.stop() }
        let result = try runCommand("\(try binary("v0.7-client")) --port \(process.address.port) --connections 200")
        #expect(result.status == .exited(0), "\(result.lines)")
        #expect(result.lines.last == "1000 of 1000 echoes correct, on 200 connections", "\(result.lines)")
    }

    @Test("onClosed comes once, also when onError disconnects")
    func closedOnce() throws {
        var address = loopback
        let reserved = try reservedPort(&address)      // closed by its deinit when the test ends
        let loop = try EventLoop()
        let client = TCPClient(loop: loop, address: address, backoff: .once)   // the last attempt fails
        var closes = 0
        client.onError = { client, _ in client.disconnect() }
        client.onClosed = { _ in closes += 1 }
        client.connect()
        run(loop) { closes > 0 }
        loop.runOnce(timeout: 300)                     // a retry, if one were wrongly scheduled
        #expect(closes == 1)
        _ = consume reserved
    }

    @Test("the many-connections demo reports a refused server in one line")
    func manyRefused() throws {
        var address = loopback
        let reserved = try reservedPort(&address)      // closed by its deinit when the test ends
        let result = try runCommand("\(try binary("v0.7-client")) --port \(address.port) --connections 3")
        #expect(result.status == .exited(1))
        #expect(result.lines.last?.hasPrefix("v0.7-client: cannot connect to \(address): connection") == true, "\(result.lines)")
        #expect(result.lines.last?.hasSuffix("(ECONNREFUSED)") == true)
    }

    @Test("a flush that fails closes once, with no onConnected after onClosed")
    func failedFlushClosesOnce() throws {
        ignoreSIGPIPE()                                       // the flush below fails with EPIPE
        let loop = try EventLoop()
        let client = TCPClient(loop: loop, address: loopback)
        var events: [String] = []
        client.onConnected = { _ in events.append("connected") }
        client.onError = { _, _ in events.append("error") }
        client.onClosed = { _ in events.append("closed") }
        [1, 2, 3].withUnsafeBytes { client.send($0) }         // not connected: queued in a pool buffer
        // The Connector's result, for a peer that reset while the handshake ended: the connection is
        // up, and the first write on it fails at once. (A socketpair whose other end is closed does
        // that every time; on TCP it is a race.)
        let (ours, theirs) = try socketPair()
        _ = close(theirs)
        try #require(fcntl(ours, F_SETFL, O_NONBLOCK) == 0)
        client.connected(Socket(fd: ours))
        #expect(events == ["error", "closed"])
        #expect(client.state == .closed)
        #expect(loop.pool.idleCounts.reduce(0, +) == 1, "the queued buffer is back in the pool once")
    }

    @Test("a client dropped while connected stops the program")
    func droppedWhileConnected() async {
        await #expect(processExitsWith: .failure) {
            let server = try EchoServer(address: SocketAddress(host: "127.0.0.1", port: 0)!)
            var client: TCPClient? = TCPClient(loop: server.loop, address: server.address)
            var connected = false
            client?.onConnected = { _ in connected = true }
            client?.connect()
            let limit = ContinuousClock.now + .seconds(5)
            while !connected && ContinuousClock.now < limit { server.loop.runOnce(timeout: 50) }
            client = nil                                      // its connection is still registered
            server.loop.runOnce(timeout: 50)
        }
    }

    @Test("a connection to itself is refused")
    func selfConnectIsRefused() throws {
        // A port nobody listens on; the client binds it as its own source port, so the connect meets
        // itself ("simultaneous open"): on loopback, this is what an unlucky ephemeral port does.
        // (On an address of its own, so that no test beside this one takes the freed port.)
        let alone = SocketAddress(host: "127.0.0.79", port: 0)!
        let port = try #require(try Socket.listen(on: alone).localAddress()).port
        let target = SocketAddress(host: "127.0.0.79", port: port)!
        let loop = try EventLoop()
        let client = TCPClient(loop: loop, address: target, localAddress: target, backoff: .once)
        var errors: [any Error] = []
        var connected = false
        var closes = 0
        client.onError = { _, error in errors.append(error) }
        client.onConnected = { _ in connected = true }
        client.onClosed = { _ in closes += 1 }
        client.connect()
        run(loop) { closes > 0 || connected }
        #expect(!connected, "the client took a connection to itself for a server")
        #expect(errors.first is SelfConnectError, "\(errors)")
        client.disconnect()
    }

    @Test("a spawned child inherits none of a client's or a server's sockets")
    func childInheritsNoSocket() throws {
        let server = try EchoServer(address: loopback)
        let connected = TCPClient(loop: server.loop, address: server.address)
        let connecting = TCPClient(loop: server.loop, address: server.address)
        var up = false
        connected.onConnected = { _ in up = true }
        connected.connect()
        run(server.loop) { up && server.connectionCount == 1 }
        connecting.connect()                                  // its Connector's socket, mid-handshake
        defer { connected.disconnect(); connecting.disconnect() }
        let fds = [try #require(server.acceptor).fd, try #require(connected.connection).fd, try #require(connecting.connector).fd]
        #expect(try socketsInheritedByAChild(fds) == [])
    }
}
