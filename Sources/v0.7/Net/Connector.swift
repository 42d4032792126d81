// Connector.swift: a non-blocking connect on the event loop: EINPROGRESS, then EPOLLOUT, then SO_ERROR.
// v0.4: new.
import Glibc

/// Starts a connection without blocking the loop (muduo's Connector), and tells its TCPClient how it
/// ended:
///
///     socket(SOCK_NONBLOCK) ─► connect() ─► done at once (allowed; Linux TCP never does) ─► handshakeDone
///                                  └─► EINPROGRESS: watch for writable ─► EPOLLOUT (or ERR/HUP)
///                                                  getsockopt(SO_ERROR) ─► 0 ─────────► handshakeDone
///                                                                       └► ECONNREFUSED ► connectFailed
///     handshakeDone: our address == the peer's? ─► yes: connectFailed (a connection to itself)
///                                               └─► no: connected(socket)
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
    /// Where to connect from; nil lets the kernel pick (see TCPClient.localAddress).
    let localAddress: SocketAddress?
    private var socket: Socket?
    /// The connecting socket's fd while a handshake is under way, else -1.
    private(set) var fd: CInt = -1

    init(loop: EventLoop, client: TCPClient, address: SocketAddress, localAddress: SocketAddress?) {
        self.loop = loop
        self.client = client
        self.address = address
        self.localAddress = localAddress
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
            if let localAddress { try sysBind(fd, localAddress) }
            if try sysConnect(fd, address) {
                handshakeDone(socket)
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
    override func handleEvent(_ events: UInt32) {
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
            handshakeDone(socket)
        } else {
            socket.close()
            client.connectFailed(SystemError(call: "connect", errno: err))
        }
    }

    /// PITFALL: on loopback, a connect to a port nobody listens on can succeed, connected to itself:
    /// the kernel picked that same port as our source port (it is in the ephemeral range), and TCP's
    /// "simultaneous open" joins the socket to itself. Everything we send then comes back to us, like
    /// an echo server that answers every request. As muduo's Connector does, compare our address with
    /// the peer's, and treat a match as a failed attempt.
    /// Guarded by: Tests/v0.N/TCPClientTests.swift "a connection to itself is refused".
    private func handshakeDone(_ socket: consuming Socket) {
        let local: SocketAddress?, peer: SocketAddress?
        do {
            local = try socket.localAddress()
            peer = try socket.peerAddress()
        } catch {
            socket.close()
            client.connectFailed(error)
            return
        }
        if let local, local == peer {
            socket.close()
            client.connectFailed(SelfConnectError(address: local))
            return
        }
        client.connected(socket)
    }

    /// Abandons an attempt in flight (the client was told to disconnect).
    func cancel() {
        guard let socket = socket.take() else { return }
        loop.unregister(fd: fd)
        socket.close()
    }
}

/// The connection came back to the socket itself (see Connector.handshakeDone).
public struct SelfConnectError: Error, CustomStringConvertible {
    public let address: SocketAddress
    public var description: String { "connect: connected to itself at \(address) (nobody listens there)" }
}
