// ConnectionOwner.swift: what a TCPConnection reports to whoever owns it: messages, errors, its close.
// v0.4: new: the server and the TCPClient both own connections now.

/// The owner of TCPConnections: the EchoServer for accepted ones, a TCPClient for the one it connected.
/// A protocol from this stage on, because from this stage on there are two kinds. Loop thread only.
protocol ConnectionOwner: AnyObject {
    /// Bytes arrived: handle the whole frames at the front of `input` and consume them; leave a partial
    /// frame where it is.
    func handleMessages(_ connection: TCPConnection, _ input: IOBuffer)
    /// A read or write failed (ECONNRESET, EPIPE, ...); handleClose follows.
    func connectionFailed(_ connection: TCPConnection, _ error: any Error)
    /// The connection is closed; called exactly once.
    func connectionClosed(_ connection: TCPConnection)
}
