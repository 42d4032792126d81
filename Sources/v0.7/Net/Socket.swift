// Socket.swift: a TCP socket that owns its file descriptor: listen, accept, connect, read, write.
// v0.1: blocking calls; writeAll loops over short writes; accepted sockets get TCP_NODELAY.
// v0.3: non-blocking use: accept and read return nil for "would block"; setNonBlocking.
// v0.4: connect reports whether the handshake is done; the non-blocking one is in Connector; peerAddress.
// v0.7: release(), to hand the descriptor to another loop's thread.
import Glibc

/// A TCP socket. Owns `fd` and closes it exactly once: in `close()`, or in `deinit` if nobody called it.
/// `~Copyable` makes that a compile-time fact: a Socket cannot be copied, so no two owners can close
/// the same descriptor.
public struct Socket: ~Copyable {
    public let fd: CInt

    init(fd: CInt) { self.fd = fd }

    deinit { sysClose(fd) }

    /// Closes now instead of at the end of the owner's scope.
    public consuming func close() {
        let fd = self.fd
        discard self
        sysClose(fd)
    }

    /// Gives up the descriptor without closing it: the caller owns it from now on (to pass it to
    /// another thread, which makes a Socket of it again there).
    consuming func release() -> CInt {
        let fd = self.fd
        discard self
        return fd
    }

    /// socket + SO_REUSEADDR + bind + listen.
    /// PITFALL: without SO_REUSEADDR, a restarted server cannot bind its port while connections of the
    /// previous run sit in TIME_WAIT. (It does not let two live servers share a port.)
    /// Guarded by: Tests/v0.N/SocketTests.swift "a restarted server binds its port while old connections wait in TIME_WAIT".
    /// PITFALL: a burst of clients beyond the backlog is not refused: the kernel drops their SYNs, and
    /// each retries a second later (then 3 s, 7 s...). SOMAXCONN asks for the most the kernel allows; it
    /// caps the number at net.core.somaxconn (4096 since Linux 5.4).
    /// Guarded by: Tests/v0.N/SocketTests.swift "the listen backlog holds a burst of 200 connections".
    public static func listen(on address: SocketAddress, backlog: CInt = SOMAXCONN) throws -> Socket {
        let socket = Socket(fd: try sysSocket(AF_INET, CInt(SOCK_STREAM.rawValue)))
        try sysSetIntOption(socket.fd, SOL_SOCKET, SO_REUSEADDR, 1)
        try sysBind(socket.fd, address)
        try sysListen(socket.fd, backlog)
        return socket   // if any call above threw, `socket` was destroyed and its deinit closed the fd
    }

    /// Takes the next client off the listen backlog: returns its socket (owned by the caller, already
    /// non-blocking) and stores its address in `peer`. Returns nil if none is waiting (non-blocking
    /// listener); a blocking listener waits instead.
    public func accept(peer: inout SocketAddress?) throws -> Socket? {
        guard let (fd, storage) = try sysAccept(self.fd) else { return nil }
        let client = Socket(fd: fd)
        // PITFALL: Nagle's algorithm holds a small write back while an earlier one is unacknowledged,
        // and the peer delays its ACK (up to 40 ms on Linux) hoping to send it with a reply: a reply
        // written in two parts then waits 40 ms. TCP_NODELAY sends every write at once.
        // Guarded by: Tests/v0.N/SocketTests.swift "an accepted socket has TCP_NODELAY".
        try sysSetIntOption(client.fd, CInt(IPPROTO_TCP), TCP_NODELAY, 1)
        peer = SocketAddress(storage)
        return client
    }

    /// Blocks until the TCP handshake with `address` is done.
    public static func connect(to address: SocketAddress) throws -> Socket {
        let socket = Socket(fd: try sysSocket(AF_INET, CInt(SOCK_STREAM.rawValue)))
        // Blocking: true, or it threw. (False only if a signal interrupted it: the handshake then goes
        // on in the kernel, and on Linux the first write waits for it.)
        _ = try sysConnect(socket.fd, address)
        return socket
    }

    /// Blocks until some bytes arrive; returns how many (at most `buffer.count`), 0 at end of stream.
    /// On a non-blocking socket, nil means nothing has arrived yet.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        try sysRead(fd, into: buffer)
    }

    /// Writes every byte of `bytes`. For blocking sockets: a non-blocking one would spin here while its
    /// send buffer is full (write returns nil, counted as 0 bytes, and the loop goes round again).
    public func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        try Socket.writeAll(bytes) { try sysWrite(fd, from: $0) ?? 0 }
    }

    /// From now on, calls on this socket return "would block" instead of waiting.
    public func setNonBlocking() throws {
        try sysSetNonBlocking(fd)
    }

    /// PITFALL: write(2) may take fewer bytes than asked (a signal, a full send buffer on a socket with
    /// a timeout); loop until all are out. `writeSome` is write(2) in the program, a fake in the test.
    /// Guarded by: Tests/v0.N/SocketTests.swift "writeAll retries short writes".
    static func writeAll(_ bytes: UnsafeRawBufferPointer,
                         _ writeSome: (UnsafeRawBufferPointer) throws -> Int) throws {
        var offset = 0
        while offset < bytes.count {
            offset += try writeSome(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
        }
    }

    /// Sends FIN: "I am done sending". The peer reads end of stream; we can still read its replies.
    public func shutdownWrite() throws {
        try sysShutdown(fd, CInt(SHUT_WR))
    }

    /// The address the kernel bound us to: after binding port 0, this is where the real port is.
    public func localAddress() throws -> SocketAddress? {
        SocketAddress(try sysLocalAddress(fd))
    }

    /// The address of the other end of the connection.
    public func peerAddress() throws -> SocketAddress? {
        SocketAddress(try sysPeerAddress(fd))
    }
}
