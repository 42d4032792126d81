// Connector.swift: a non-blocking connect on the event loop: EINPROGRESS, then EPOLLOUT, then SO_ERROR.
// v0.4: new.
import Glibc

/// Starts a connection without blocking the loop (muduo's Connector), and tells its TCPClient how it
/// ended:
///
///     socket(SOCK_NONBLOCK) ─► connect() ─► done at once (allowed; Linux TCP never does) ─► connected
///                                  └─► EINPROGRESS: watch for writable ─► EPOLLOUT (or ERR/HUP)
///                                                  getsockopt(SO_ERROR) ─► 0 ─────────► connected(socket)
///                                                                       └► ECONNREFUSED ► connectFailed
///
/// PITFALL: "writable" says only that the handshake is over, not that it worked: a refused connect
/// makes the socket writable too (with EPOLLERR). SO_ERROR says which, and reading it clears it.
/// Guarded by: Tests/v0.N/TCPClientTests.swift "a refused connection is reported through the error callback".
///
/// Owns the connecting socket until it hands it to the client. Loop thread only.
final class Connector: EventHandler {
    private unowned let loop: EventLoop
    private unowned let client: TCPClient
    let address: SocketAddress
    private var socket: Socket?
    private var fd: CInt = -1

    init(loop: EventLoop, client: TCPClient, address: SocketAddress) {
        self.loop = loop
        self.client = client
        self.address = address
    }

    /// One attempt. The client hears `connected` or `connectFailed`, now or from a later wakeup.
    func start() {
        let socket: Socket
        do {
            socket = Socket(fd: try sysSocket(AF_INET, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue)))
        } catch {
            client.connectFailed(error)
            return
        }
        let fd = socket.fd
        do {
            if try sysConnect(fd, address) {
                client.connected(socket)
                return
            }
            try loop.register(self, fd: fd, interest: .writable)
        } catch {
            socket.close()
            client.connectFailed(error)
            return
        }
        self.fd = fd
        self.socket = .some(socket)
    }

    /// The handshake is over, one way or the other.
    func handleEvent(_ events: UInt32) {
        loop.unregister(fd: fd)
        fd = -1
        guard let socket = socket.take() else { return }
        let err: CInt
        do {
            err = try sysSocketError(socket.fd)
        } catch {
            socket.close()
            client.connectFailed(error)
            return
        }
        if err == 0 {
            client.connected(socket)
        } else {
            socket.close()
            client.connectFailed(SystemError(call: "connect", errno: err))
        }
    }

    /// Abandons an attempt in flight (the client was told to disconnect).
    func cancel() {
        guard let socket = socket.take() else { return }
        loop.unregister(fd: fd)
        socket.close()
    }
}
