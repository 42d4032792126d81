// EchoServer.swift: the blocking echo server: one client at a time, bytes sent back as they came.
// v0.1: accept a client, read/write until it closes, then accept the next.

/// Serves one client at a time, on one thread, with blocking calls.
///
///     accept() ──► read() ──► writeAll() ──┐
///        ▲           ▲                     │ more bytes
///        │           └─────────────────────┘
///        └──────────── read() returned 0 (client closed)
///
/// While `serve` runs, nobody calls accept(2): a second client's connection completes (the kernel does
/// the handshake and queues it in the listen backlog) but its bytes sit unread until the first leaves.
/// Guarded by: Tests/v0.N/EchoServerTests.swift "a second client waits for the first".
public final class EchoServer {
    private let listener: Socket
    public let address: SocketAddress
    /// One read buffer for the whole server, reused for every read of every client: we serve one
    /// client at a time, so one buffer is all we ever need.
    private let buffer: UnsafeMutableRawBufferPointer

    /// Listens on `address`. Throws if the port is busy (EADDRINUSE) or the address is not ours.
    public init(address: SocketAddress, bufferSize: Int = 64 * 1024) throws {
        listener = try Socket.listen(on: address)
        self.address = try listener.localAddress() ?? address
        buffer = .allocate(byteCount: bufferSize, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// Serves clients forever, one after the other.
    public func run() -> Never {
        while true {
            do {
                var peer: SocketAddress?
                let client = try listener.accept(peer: &peer)
                serve(client, peer: peer.map(String.init(describing:)) ?? "?")
            } catch {
                // EMFILE and friends: logged, then accept again. If the error persists this loop spins;
                // the event loop of v0.3 deals with it properly.
                log("accept failed: \(error)")
            }
        }
    }

    /// Echoes until the client closes, then closes our end (the `client` owner goes out of scope).
    func serve(_ client: consuming Socket, peer: String) {
        log("client \(peer) connected")
        var echoed = 0
        do {
            while true {
                let count = try client.read(into: buffer)
                if count == 0 { break }
                try client.writeAll(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                echoed += count
            }
            log("client \(peer) closed after \(echoed) bytes echoed")
        } catch {
            // ECONNRESET, EPIPE: that client is gone. Only this connection ends; the server goes on.
            log("client \(peer) dropped after \(echoed) bytes: \(error)")
        }
    }
}
