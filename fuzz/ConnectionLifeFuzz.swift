// ConnectionLifeFuzz.swift: libFuzzer target: whole connection lives on one EventLoop, with real
// sockets, in an order the fuzzer picks. An EchoServer and its peers: socketpairs handed to it
// directly and TCP connections through its listener. A peer sends frames whole, split anywhere, or
// with an oversized header; reads its echo, or stops reading (the server must then stop reading it);
// half-closes, closes, or resets. From v0.4 (built with -D FUZZ_TCPCLIENT), TCPClients too: through
// the server, over a socketpair whose far end the fuzzer plays (and may close before the client is
// handed its socket), or to a port nobody listens on; a client's callback may disconnect itself or
// another client, or close one of the server's connections, while the loop is dispatching. From v0.5
// (built with -D FUZZ_ROUTER): frames of any msgid, answered through the router (msgid 1 an echo, the
// others an error frame in its place), the lingering close after an oversized header, and the on-open
// and on-close hooks. From v0.7 (-D FUZZ_SLOW): msgid 3 (sleep) and 4 (compute) too, answered on the
// loop (no workers: one loop, no threads, so that each input replays the same way); the fuzzer's
// payloads make every sleep too long (bad-request) and a compute either that or 66,051 rounds.
//
// After every input: each peer got, in order and once, every whole frame it sent (from v0.5: the reply
// to it), then end of stream (after an oversized header: the frames before it and the error frame; in
// v0.3 and v0.4 perhaps only part of them and a reset, since they close with our bytes unread; from
// v0.5 all of it, and never a reset); each connection's on-open and on-close hooks ran once; every client got its echoes in order, onConnected at
// most once and onClosed exactly once per connection attempt; the server counts no connection; the
// process has exactly the fds it had before. The pool stops the program on a buffer given back twice
// (in every build), the errno policy on an fd closed twice, and AddressSanitizer on any use of freed
// memory. Peers hold the server's connections weakly, so a connection freed too early is not kept
// alive by the harness.
//
// Input: byte 0 picks --max-frame (bits 0-1) and edge-triggered mode (bit 2); then operations, one
// byte each and the bytes their arguments take (see `World.play`). Built with the stage's Net/*.swift
// into one module, so internal names are visible here (EchoServer.newConnection; TCPClient.connected,
// which hands a client its socket as the Connector does when a handshake ends).
import Glibc

@_cdecl("LLVMFuzzerInitialize")
public func connectionLifeFuzzInitialize(_ argc: UnsafeMutableRawPointer, _ argv: UnsafeMutableRawPointer) -> CInt {
    ignoreSIGPIPE()                 // as every server does: a write to a closed peer is EPIPE, not death
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func connectionLifeFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let fdsBefore = openDescriptorCount()
    do {
        let world = World(script: Script(bytes: UnsafeBufferPointer(start: data, count: size)))
        world.play()
        world.finish()
    }
    // The world is gone, and with it the server, its loop and every socket: all closed, none twice.
    check(openDescriptorCount() == fdsBefore, "\(openDescriptorCount()) fds open after the input, \(fdsBefore) before")
    return 0
}

/// The input, read one byte at a time; zeros once it is used up.
struct Script {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    var isDone: Bool { index >= bytes.count }
    mutating func next() -> Int {
        guard index < bytes.count else { return 0 }
        defer { index += 1 }
        return Int(bytes[index])
    }
    /// A byte count: small up to 223, then 8 KiB steps up to 256 KiB (enough to fill socket buffers).
    mutating func size() -> Int {
        let byte = next()
        return byte < 224 ? byte : (byte - 223) * 8192
    }
}

final class World {
    var script: Script
    let maxFrame: Int
    let server: EchoServer
    var peers: [Peer] = []
    #if FUZZ_TCPCLIENT
    var clients: [ClientSide] = []
    #endif
    #if FUZZ_ROUTER
    /// The connections the hooks saw open, and those they saw close: each once, and all of them by the end.
    var opened: Set<ObjectIdentifier> = []
    var closed: Set<ObjectIdentifier> = []
    #endif
    /// Payload bytes count up from here, so that every frame differs from its neighbours.
    var nextPayloadByte: UInt8 = 0
    /// Where peers read into: one buffer for the world, not one per read.
    var scratch = [UInt8](repeating: 0, count: 64 * 1024)

    init(script: Script) {
        self.script = script
        let setup = self.script.next()
        maxFrame = [64, 1024, 65536, 1 << 20][setup % 4]
        server = try! EchoServer(address: SocketAddress(host: "127.0.0.1", port: 0)!, maxFrame: maxFrame,
                                 edgeTriggered: setup & 4 != 0)
        #if FUZZ_ROUTER
        server.onOpen = { [unowned self] connection in
            check(opened.insert(ObjectIdentifier(connection)).inserted, "on-open ran twice for one connection")
        }
        server.onClose = { [unowned self] connection in
            check(opened.contains(ObjectIdentifier(connection)), "on-close ran for a connection on-open never saw")
            check(closed.insert(ObjectIdentifier(connection)).inserted, "on-close ran twice for one connection")
        }
        #endif
    }

    /// One wakeup of the loop; after many turns without the progress a caller waits for, it waits 1 ms
    /// per turn (a retry timer, a handshake), so that a stall ends in its bound, not a spin.
    func turn(_ round: Int = 0) {
        server.loop.runOnce(timeout: round > 200 ? 1 : 0)
    }

    func frame(msgid: UInt32, payloadSize: Int) -> [UInt8] {
        var bytes = header(msgid: msgid, length: UInt32(payloadSize))
        bytes.reserveCapacity(8 + payloadSize)
        for _ in 0..<payloadSize {
            bytes.append(nextPayloadByte)
            nextPayloadByte &+= 1
        }
        return bytes
    }

    func play() {
        while !script.isDone {
            switch script.next() % 17 {
            case 0 where peers.count < 8: peers.append(Peer(pairedWith: self))
            case 1 where peers.count < 8: peers.append(Peer(connectingTo: server, world: self))
            case 2:
                guard let peer = somePeer() else { continue }
                for _ in 0...(script.next() % 4) {
                    var msgid = UInt32(script.next())
                    let size = script.size()
                    #if FUZZ_ROUTER
                    if msgid == 2 && size == 0 { msgid = 3 }    // a stats reply's numbers cannot be predicted
                    #endif
                    peer.pending += frame(msgid: msgid, payloadSize: size)
                }
            case 3:
                guard let peer = somePeer() else { continue }
                let length = UInt32(maxFrame + 1 + script.next())      // one the server must refuse
                peer.pending += header(msgid: 1, length: length)
            case 4: somePeer()?.write(upTo: 1 + script.size())
            case 5: somePeer()?.read(upTo: 1 + script.size())
            case 6: somePeer()?.halfClose()
            case 7: somePeer()?.close(reset: script.next() % 2 == 1)
            case 8: for _ in 0...(script.next() % 4) { turn() }
            case 9: somePeer()?.closeServerSide()
            #if FUZZ_TCPCLIENT
            case 10 where clients.count < 8: clients.append(ClientSide(throughServerOf: self))
            case 11 where clients.count < 8: clients.append(ClientSide(overSocketpairIn: self))
            case 12 where clients.count < 8: clients.append(ClientSide(refusedIn: self))
            case 13: someClient()?.send(count: 1 + script.next() % 3, world: self)
            case 14: someClient()?.client.disconnect()
            case 15: someClient()?.arm(script.next(), world: self)
            case 16: someClient()?.farEcho(upTo: 1 + script.size(), world: self)
            #endif
            default: continue
            }
        }
    }

    func somePeer() -> Peer? {
        let choice = script.next()
        return peers.isEmpty ? nil : peers[choice % peers.count]
    }

    #if FUZZ_TCPCLIENT
    func someClient() -> ClientSide? {
        let choice = script.next()
        return clients.isEmpty ? nil : clients[choice % clients.count]
    }
    #endif

    /// Ends every life the input began, checking each on the way.
    func finish() {
        for peer in peers { peer.finish() }
        #if FUZZ_TCPCLIENT
        for side in clients { side.finish(world: self) }
        var waited = 0
        while clients.contains(where: { $0.closes < $0.attempts }) && waited < 3000 { turn(waited); waited += 1 }
        for side in clients { side.checkClosed() }
        #endif
        var round = 0
        while server.connectionCount > 0 && round < 3000 { turn(round); round += 1 }
        check(server.connectionCount == 0, "the server still counts \(server.connectionCount) connections after every peer left")
        #if FUZZ_ROUTER
        check(server.openCount == 0, "the server still counts \(server.openCount) open connections after every peer left")
        check(opened == closed, "\(opened.count) connections opened, \(closed.count) closed, by the hooks")
        #endif
        peers.removeAll()
        #if FUZZ_TCPCLIENT
        clients.removeAll()
        #endif
    }
}

/// The fuzzer's end of one server connection: a socketpair's other end, or a TCP socket.
final class Peer {
    let fd: CInt
    /// The server's side, for a socketpair peer (nil over TCP: the acceptor made it). Weak: the loop's
    /// table must be what keeps a connection alive, or a connection freed too early would go unseen.
    weak var connection: TCPConnection?
    unowned let world: World
    var pending: [UInt8] = []         // everything queued to be written; written up to `written`
    var written = 0
    /// What the server owes us for pending[..<written]: its whole frames (parsed up to `parsed`); after
    /// an oversized header, the error frame, and then the server ends the connection (`refused`).
    var owed: [UInt8] = []
    var parsed = 0
    var refused = false
    var received = 0                  // bytes of `owed` received, each compared on arrival
    var wroteEnd = false              // shutdown(SHUT_WR)
    var gone = false                  // our end closed: nothing more to check
    var ended = false                 // end of stream or a reset read
    var reset = false
    var broken = false                // a write failed: the server has closed
    var cutByUs = false               // the fuzzer closed the server's side: the echo may stop short

    init(pairedWith world: World) {
        let (serverSide, ours) = nonBlockingSocketpair()
        fd = ours
        self.world = world
        connection = world.server.newConnection(Socket(fd: serverSide), peer: nil)
    }

    init(connectingTo server: EchoServer, world: World) {
        fd = socket(AF_INET, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue) | CInt(SOCK_NONBLOCK.rawValue), 0)
        check(fd >= 0, "socket: \(errno)")
        self.world = world
        let result = server.address.withSockAddr { Glibc.connect(fd, $0, $1) }
        check(result == 0 || errno == EINPROGRESS, "connect to the server: \(errno)")
        var writable = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        check(poll(&writable, 1, 2000) == 1, "the handshake with the server did not end")
    }

    /// Turns the bytes written since the last call into what the server owes for them.
    private func updateOwed() {
        while !refused && written - parsed >= 8 {
            let length = pending[(parsed + 4)..<(parsed + 8)].reduce(0) { $0 << 8 | Int($1) }
            if length > world.maxFrame {
                let error = FrameError.tooLarge(length: UInt32(length), max: world.maxFrame)
                let frame = IOBuffer(capacity: 64)
                FrameCodec(maxFrame: world.maxFrame).encodeError(code: error.code, "\(error)", into: frame)
                owed += frame.withReadableBytes { Array($0) }
                refused = true
            } else if written - parsed >= 8 + length {
                #if FUZZ_ROUTER
                owed += expectedReply(to: pending[parsed..<(parsed + 8 + length)])
                #else
                owed += pending[parsed..<(parsed + 8 + length)]
                #endif
                parsed += 8 + length
            } else {
                return
            }
        }
    }

    func write(upTo limit: Int) {
        guard !gone, !wroteEnd, !broken, written < pending.count else { return }
        let count = min(limit, pending.count - written)
        let result = pending.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, count) }
        if result > 0 {
            written += result
            updateOwed()
        } else if result < 0 && errno != EAGAIN {
            let err = errno
            check(err == EPIPE || err == ECONNRESET, "a peer's write failed with errno \(err)")
            broken = true
        }
    }

    func read(upTo limit: Int) {
        guard !gone, !ended else { return }
        let result = world.scratch.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, min(limit, $0.count)) }
        if result > 0 {
            check(received + result <= owed.count, "a peer got \(received + result) bytes, and is owed \(owed.count)")
            check(world.scratch[..<result].elementsEqual(owed[received..<(received + result)]),
                  "a peer got bytes it was not sent: at \(received) of the echo")
            received += result
        } else if result == 0 {
            ended = true
        } else {
            let err = errno
            if err == EAGAIN { return }
            check(err == ECONNRESET, "a peer's read failed with errno \(err)")
            ended = true
            reset = true
        }
    }

    func halfClose() {
        guard !gone, !wroteEnd else { return }
        shutdown(fd, CInt(SHUT_WR))
        wroteEnd = true
    }

    /// Closes our end: end of stream for the server, or a reset: over TCP with SO_LINGER 0; on a
    /// socketpair whenever our side has unread bytes (Linux reports ECONNRESET then).
    func close(reset: Bool) {
        guard !gone else { return }
        if reset {
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        }
        check(Glibc.close(fd) == 0, "close: \(errno)")
        gone = true
    }

    /// The server's side closes, from outside any callback (a client's callback does it from inside).
    func closeServerSide() {
        guard let connection, connection.isOpen else { return }
        cutByUs = true
        connection.handleClose()
    }

    /// Sends what is left, reading meanwhile (the server stops reading us while it owes us output),
    /// half-closes, reads to the end, and checks that the echo is all there.
    func finish() {
        guard !gone else { return }
        var round = 0
        while written < pending.count && !wroteEnd && !broken && !ended && round < 3000 {
            write(upTo: 1 << 20)
            read(upTo: 1 << 20)
            world.turn(round)
            round += 1
        }
        halfClose()
        while !ended && round < 6000 {
            read(upTo: 1 << 20)
            world.turn(round)
            round += 1
        }
        check(ended, "the server never ended a half-closed connection (\(received) of \(owed.count) bytes received)")
        #if FUZZ_ROUTER
        // The lingering close: after an oversized header, everything owed arrives, then end of stream.
        if reset || broken {
            check(cutByUs, "the server reset a connection it did not have to" + (refused ? " (a refused one: no lingering close?)" : ""))
        } else if !cutByUs {
            check(received == owed.count, "the replies stopped short: \(received) of \(owed.count) bytes" + (refused ? " (after an oversized header)" : ""))
        }
        #else
        if reset || broken {
            check(refused || cutByUs, "the server reset a connection that broke no rule")
        } else if !cutByUs && !refused {
            check(received == owed.count, "the echo stopped short: \(received) of \(owed.count) bytes")
        }
        // After an oversized header, v0.3 and v0.4 close at once: what the kernel had not taken yet
        // (the echo of the frames before it, the error frame) goes with the connection, so the echo
        // may stop short. This fuzzer found that (chapter 4 tells how); v0.5's closing state flushes
        // first, and makes the check exact (above).
        #endif
        close(reset: false)
    }
}

#if FUZZ_TCPCLIENT
/// One TCPClient, what it sent and what its callbacks saw.
final class ClientSide {
    let client: TCPClient
    /// The fuzzer's end of a socketpair client's connection (it plays the server there); -1 otherwise.
    var far: CInt = -1
    var farPending: [UInt8] = []      // read from the client, not yet written back
    var messages: [[UInt8]] = []      // every frame sent, in order
    var echoed = 0                    // how many came back, checked in order
    var attempts = 0                  // connect() and connected() calls: each must end in one onClosed
    var closes = 0
    var isOpen = false                // between onConnected and onClosed
    var action: (() -> Void)?         // run from inside onMessage, once
    /// A client of a port nobody listens on: it must never be told it is connected, and every error
    /// it hears is ECONNREFUSED, or the connection to itself the Connector refuses.
    var refused = false

    /// `choices` (a byte of the script): bit 0, onConnected sends a frame too, which must come back
    /// after the frames queued before it; bit 1, onError calls disconnect().
    private init(client: TCPClient, choices: Int, world: World) {
        self.client = client
        client.onConnected = { [unowned self, unowned world] _ in
            check(!self.refused, "a client of a port nobody listens on was told it is connected")
            check(!self.isOpen && self.closes < self.attempts, "onConnected after onClosed, or twice")
            self.isOpen = true
            if choices & 1 != 0 { self.send(count: 1, world: world) }
        }
        client.onError = { [unowned self] _, error in
            if self.refused {
                let err = (error as? SystemError)?.errno
                check(err == ECONNREFUSED || error is SelfConnectError, "a refused connect was reported as \(error)")
            }
            if choices & 2 != 0 { self.client.disconnect() }
        }
        client.onClosed = { [unowned self] _ in
            self.closes += 1
            self.isOpen = false
            check(self.closes <= self.attempts, "onClosed \(self.closes) times for \(self.attempts) attempts")
        }
        client.onMessage = { [unowned self] _, bytes in self.handle(bytes) }
    }

    convenience init(throughServerOf world: World) {
        let client = TCPClient(loop: world.server.loop, address: world.server.address, backoff: .once)
        self.init(client: client, choices: world.script.next(), world: world)
        send(count: world.script.next() % 3, world: world)       // queued until the connection is up
        attempts += 1
        client.connect()
    }

    /// A client whose connection comes up on a socketpair, as when a Connector's handshake ends; the
    /// far end may be closed already (a peer that reset meanwhile: the first write fails at once).
    convenience init(overSocketpairIn world: World) {
        let client = TCPClient(loop: world.server.loop, address: world.server.address)
        self.init(client: client, choices: world.script.next(), world: world)
        send(count: world.script.next() % 3, world: world)
        let (clientSide, farSide) = nonBlockingSocketpair()
        if world.script.next() % 2 == 1 { check(Glibc.close(farSide) == 0, "close: \(errno)") } else { far = farSide }
        attempts += 1
        client.connected(Socket(fd: clientSide))
    }

    /// A client of a port nobody listens on: one or two attempts, 1 ms apart, then onClosed. Bit 2 of
    /// `choices` binds the client to that same port, so that its connect meets itself (Connector's
    /// self-connect check).
    convenience init(refusedIn world: World) {
        let free = try! Socket.listen(on: SocketAddress(host: "127.0.0.1", port: 0)!).localAddress()!   // closed at once
        let choices = world.script.next()
        let toItself = choices & 4 != 0
        // Once only to itself: the port it met itself on waits in TIME_WAIT, so a second bind fails.
        let backoff = Backoff(initialDelay: .milliseconds(1), maximumDelay: .milliseconds(2),
                              attempts: toItself ? 1 : 1 + (choices >> 3) % 2)
        let client = TCPClient(loop: world.server.loop, address: free, localAddress: toItself ? free : nil, backoff: backoff)
        self.init(client: client, choices: choices, world: world)
        refused = true
        attempts += 1
        client.connect()
    }

    func send(count: Int, world: World) {
        for _ in 0..<count {
            // At most --max-frame (an oversized frame is the peers' part): each one is echoed.
            let size = world.script.size() % (min(4096, world.maxFrame) + 1)
            #if FUZZ_ROUTER
            let msgid: UInt32 = 1                             // from v0.5 only msgid 1 is an echo
            #else
            let msgid = UInt32(1 + world.script.next())
            #endif
            let frame = world.frame(msgid: msgid, payloadSize: size)
            messages.append(frame)
            frame.withUnsafeBytes { client.send($0) }
        }
    }

    /// The echoes: each whole frame must be the next one sent. An armed action runs after the first.
    func handle(_ bytes: UnsafeRawBufferPointer) -> Int {
        var offset = 0
        while bytes.count - offset >= 8 {
            let length = bytes[(offset + 4)..<(offset + 8)].reduce(0) { $0 << 8 | Int($1) }
            guard bytes.count - offset >= 8 + length else { break }
            check(echoed < messages.count, "a client got an echo of a frame it did not send")
            check(bytes[offset..<(offset + 8 + length)].elementsEqual(messages[echoed]), "a client's echo \(echoed) differs")
            echoed += 1
            offset += 8 + length
            if let action {
                self.action = nil
                action()
                if client.state != .connected { return offset }   // it closed this very connection
            }
        }
        return offset
    }

    /// What the client does inside its next onMessage: disconnect itself, disconnect another client,
    /// or close one of the server's connections.
    func arm(_ choice: Int, world: World) {
        let target = world.script.next()
        switch choice % 3 {
        case 0: action = { [unowned self] in self.client.disconnect() }
        case 1: action = { [unowned world] in world.clients[target % world.clients.count].client.disconnect() }
        default:
            action = { [unowned world] in
                guard !world.peers.isEmpty else { return }
                world.peers[target % world.peers.count].closeServerSide()
            }
        }
    }

    /// The far end of a socketpair client: reads what the client sent, writes it back.
    func farEcho(upTo limit: Int, world: World) {
        guard far >= 0 else { return }
        let count = world.scratch.withUnsafeMutableBytes { Glibc.read(far, $0.baseAddress, $0.count) }
        if count > 0 { farPending += world.scratch[..<count] }
        guard !farPending.isEmpty else { return }
        let written = farPending.withUnsafeBytes { Glibc.write(far, $0.baseAddress, min(limit, $0.count)) }
        if written > 0 { farPending.removeFirst(written) }
    }

    /// A client still connected gets every echo (the far end echoing, if it is ours), then disconnects.
    func finish(world: World) {
        var round = 0
        while client.state == .connected && echoed < messages.count && round < 3000 {
            farEcho(upTo: 1 << 20, world: world)
            world.turn(round)
            round += 1
        }
        if client.state == .connected {
            check(echoed == messages.count, "a connected client got \(echoed) of \(messages.count) echoes")
        }
        client.disconnect()
        if far >= 0 { check(Glibc.close(far) == 0, "close: \(errno)") }
        far = -1
    }

    func checkClosed() {
        check(closes == attempts, "a client's onClosed came \(closes) times for \(attempts) attempts")
        check(client.state != .connected && client.state != .connecting, "a client is still \(client.state)")
    }
}
#endif

#if FUZZ_ROUTER
/// What v0.5 answers to a whole frame (header and payload): msgid 1 is an echo; every other msgid the
/// fuzzer sends is refused with an error frame in its place, whose words are the server's own (a change
/// of those words is a change of this list too). The fuzzer sends no empty stats request.
func expectedReply(to frame: ArraySlice<UInt8>) -> [UInt8] {
    let msgid = frame.prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
    let (code, reason): (ErrorCode, String)
    switch msgid {
    case 1: return Array(frame)
    case 0: (code, reason) = (.badRequest, "msgid 0 is the error frame: only the server sends it")
    case 2: (code, reason) = (.badRequest, "stats takes no payload, got \(frame.count - 8) bytes")
    #if FUZZ_SLOW
    case 3, 4:
        let name = msgid == 3 ? "sleep" : "compute", range: ClosedRange<UInt32> = msgid == 3 ? 0...10_000 : 1...1_000_000
        let payload = Array(frame.dropFirst(8))
        guard payload.count >= 4 else {
            (code, reason) = (.badRequest, "\(name) needs a 4-byte number first, got \(payload.count) bytes")
            break
        }
        let number = payload.prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
        guard range.contains(number) else {
            (code, reason) = (.badRequest, "\(name): \(number) is outside \(range.lowerBound)...\(range.upperBound)")
            break
        }
        // Only a compute gets here (no 4 consecutive bytes make a sleep of 10 s or less): FNV-1a-64,
        // worked out here independently of the server's.
        func fnv(_ bytes: some Sequence<UInt8>) -> UInt64 {
            bytes.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01b3 }
        }
        var hash = fnv(payload.dropFirst(4))
        for _ in 1..<number { hash = fnv(withUnsafeBytes(of: hash.bigEndian, Array.init)) }
        return header(msgid: 4, length: 8) + withUnsafeBytes(of: hash.bigEndian, Array.init)
    #endif
    default: (code, reason) = (.unknownMsgid, "\(msgid)")
    }
    let reply = IOBuffer(capacity: 64)
    FrameCodec().encodeError(code: code, reason, into: reply)
    return reply.withReadableBytes { Array($0) }
}
#endif

/// A frame header: msgid and length, big-endian.
func header(msgid: UInt32, length: UInt32) -> [UInt8] {
    withUnsafeBytes(of: msgid.bigEndian, Array.init) + withUnsafeBytes(of: length.bigEndian, Array.init)
}

/// A connected pair of Unix stream sockets, both non-blocking and close-on-exec.
func nonBlockingSocketpair() -> (CInt, CInt) {
    var fds: [CInt] = [0, 0]
    let type = CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue) | CInt(SOCK_NONBLOCK.rawValue)
    check(socketpair(AF_UNIX, type, 0, &fds) == 0, "socketpair: \(errno)")
    return (fds[0], fds[1])
}

/// The entries of /proc/self/fd, less the one opendir holds while it lists them.
func openDescriptorCount() -> Int {
    guard let directory = opendir("/proc/self/fd") else { return -1 }
    var count = 0
    while readdir(directory) != nil { count += 1 }
    closedir(directory)
    return count - 3                  // ".", "..", and the directory's own fd
}

private func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("ConnectionLifeFuzz: \(message())") }
}
