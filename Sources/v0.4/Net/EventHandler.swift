// EventHandler.swift: what the event loop calls when an fd is ready (the Reactor's "handler" role).
// v0.3: new; Acceptor and TCPConnection are the two kinds.

/// Something that owns an fd registered with an EventLoop and reacts to its readiness.
/// A protocol because there are two kinds from the start: the Acceptor (the listening socket) and
/// TCPConnection (one accepted socket).
public protocol EventHandler: AnyObject {
    /// `events` holds the EPOLL* bits that fired (see EpollEvents). Loop thread only.
    func handleEvent(_ events: UInt32)
}
