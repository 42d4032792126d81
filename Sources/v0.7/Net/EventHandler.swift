// EventHandler.swift: what the event loop calls when an fd is ready (the Reactor's "handler" role).
// v0.3: new; Acceptor and TCPConnection are the two kinds, subclasses the loop calls without a retain.

/// Something that owns an fd registered with an EventLoop and reacts to its readiness. There are two
/// kinds from the start, the Acceptor (the listening socket) and TCPConnection (one accepted socket);
/// each subclasses this and overrides `handleEvent`.
///
/// A class, not a protocol: the loop calls its handlers without retaining them (EventLoop.runOnce),
/// and Swift offers that (`Unmanaged`) for class references only. As a protocol (`any EventHandler`),
/// copied out of the table and retained for each event, it cost 58 of 179 instructions per round trip
/// (make bench-instr 3; chapter 3, "What the hot path costs").
public class EventHandler {
    /// `events` holds the EPOLL* bits that fired (see EpollEvents). Loop thread only.
    public func handleEvent(_ events: UInt32) {
        preconditionFailure("\(type(of: self)) must override handleEvent")
    }
}
