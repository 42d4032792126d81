// ConnectionOwner.swift: who a TCPConnection reports to (the server, or a TCPClient), and how it calls them.
// v0.4: new: a connection reports to the server or, now, to a TCPClient.

/// The owner of a TCPConnection: the EchoServer for the connections it accepted, a TCPClient for the
/// one it connected. Each has the same three methods, called here: frames arrived, an error, the close.
///
/// An enum of the two kinds, not a protocol: with both named here, each call is a direct call, and the
/// server's echo is inlined into the connection's read path. Through a protocol, or a base class's
/// method table, the call cost 38 more instructions per round trip (162 against 124 when measured,
/// make bench-instr 4). The price: a third kind of owner is a third case, here. Loop thread only.
enum ConnectionOwner {
    case server(Unretained<EchoServer>)
    case client(Unretained<TCPClient>)

    /// Bytes arrived: the owner handles the whole frames at the front of `bytes` and returns how many
    /// bytes they took; the rest (the start of a frame) stays with the connection. Lent for the call.
    @inline(__always)
    func handleMessages(_ connection: TCPConnection, _ bytes: UnsafeRawBufferPointer) -> Int {
        switch self {
        case .server(let server): server.call { $0.handleMessages(connection, bytes) }
        case .client(let client): client.call { $0.handleMessages(connection, bytes) }
        }
    }

    /// A read or write failed (ECONNRESET, EPIPE, ...); connectionClosed follows.
    func connectionFailed(_ connection: TCPConnection, _ error: any Error) {
        switch self {
        case .server(let server): server.call { $0.connectionFailed(connection, error) }
        case .client(let client): client.call { $0.connectionFailed(connection, error) }
        }
    }

    /// The connection is closed; called exactly once.
    func connectionClosed(_ connection: TCPConnection) {
        switch self {
        case .server(let server): server.call { $0.connectionClosed(connection) }
        case .client(let client): client.call { $0.connectionClosed(connection) }
        }
    }
}
