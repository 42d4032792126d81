// EchoServer.swift: the echo server: every frame a client sends comes back unchanged.
// v0.1: accept a client, read/write until it closes, then accept the next.
// v0.2: frames: read into an input IOBuffer, echo each whole frame via an output IOBuffer, answer a
//       protocol error with an error frame and close that client; buffers come from a BufferPool.
// v0.3: on an EventLoop: an Acceptor hands out connections, each a TCPConnection; all clients at once.
// v0.4: its connections report to it through ConnectionOwner.server, a TCPClient's through .client.
import Glibc

/// Serves every client at once, on one thread: the EventLoop waits for whichever socket is ready, and
/// nothing ever blocks (muduo's TcpServer role):
///
///     EventLoop ──► Acceptor.handleEvent ──► newConnection: a TCPConnection, registered for readable
///         │
///         └──────► TCPConnection.handleEvent ──► handleMessages: whole frames back through send()
///
/// v0.2's server made a second client wait for the first; this one does not.
/// Guarded by: the ladder's concurrent-clients and slow-reader (make check 3).
public final class EchoServer {
    public let loop: EventLoop
    public let address: SocketAddress
    private let codec: FrameCodec
    private(set) var acceptor: Acceptor?
    /// Connections open right now.
    public private(set) var connectionCount = 0

    /// The pool every connection's buffers come from (the loop's).
    public var pool: BufferPool { loop.pool }

    /// Listens on `address`. Throws if the port is busy (EADDRINUSE) or the address is not ours.
    public init(address: SocketAddress, maxFrame: Int = FrameCodec.defaultMaxFrame, edgeTriggered: Bool = false) throws {
        loop = try EventLoop(edgeTriggered: edgeTriggered)
        let listener = try Socket.listen(on: address)
        self.address = try listener.localAddress() ?? address
        codec = FrameCodec(maxFrame: maxFrame)
        let acceptor = try Acceptor(listener: listener, server: self)
        try loop.register(acceptor, fd: acceptor.fd, interest: .readable)
        self.acceptor = acceptor
    }

    /// Serves clients forever.
    public func run() -> Never {
        loop.run()
        exit(0)
    }

    /// A new client, from the Acceptor: from now on the loop calls its TCPConnection.
    @discardableResult
    func newConnection(_ socket: consuming Socket, peer: SocketAddress?) -> TCPConnection? {
        let name = peer.map(String.init(describing:)) ?? "?"
        let connection = TCPConnection(socket: socket, peer: name, loop: loop, owner: .server(Unretained(self)))
        do {
            try loop.register(connection, fd: connection.fd, interest: .readable)
        } catch {
            // Never registered, so never counted: its socket closes when `connection` goes away.
            log("client \(name) dropped: \(error)")
            return nil
        }
        connectionCount += 1
        log("client \(name) connected")
        return connection
    }

    /// Echoes the whole frames at the front of `bytes` with one send() and returns how many bytes they
    /// take; a partial frame after them stays with the connection. Inlined into the connection's read
    /// path (TCPConnection.handleRead): called, it cost 36 of 157 instructions per round trip (make
    /// bench-instr 3).
    @inline(__always)
    func handleMessages(_ connection: TCPConnection, _ bytes: UnsafeRawBufferPointer) -> Int {
        var run = 0
        do {
            while let header = try codec.nextFrame(in: bytes, at: run) {
                run += header.frameSize
            }
        } catch {
            refuse(connection, error, after: UnsafeRawBufferPointer(rebasing: bytes[..<run]))
            return bytes.count
        }
        if run > 0 { connection.send(UnsafeRawBufferPointer(rebasing: bytes[..<run])) }
        return run
    }

    /// The client broke the protocol: echo the frames before the bad header, say why in an error frame
    /// (msgid 0), then close. Nobody else is affected.
    private func refuse(_ connection: TCPConnection, _ error: FrameError, after frames: UnsafeRawBufferPointer) {
        if !frames.isEmpty { connection.send(frames) }
        let reply = pool.take()
        codec.encodeError(code: error.code, "\(error)", into: reply)
        reply.withReadableBytes { connection.send($0) }
        pool.recycle(reply)
        log("client \(connection.peer) closed: protocol error: \(error)")
        connection.handleClose()
    }

    func connectionFailed(_ connection: TCPConnection, _ error: any Error) {
        log("client \(connection.peer) dropped: \(error)")
    }

    func connectionClosed(_ connection: TCPConnection) {
        connectionCount -= 1
        acceptor?.resume()
        log("client \(connection.peer) closed")
    }
}
