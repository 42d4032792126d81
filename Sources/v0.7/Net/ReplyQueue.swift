// ReplyQueue.swift: a connection's replies, kept in request order while some are still being computed.
// v0.7: new.
import Synchronization

/// The replies a connection owes, in request order, from its first request handed to the worker pool
/// until every reply is out. While a request is with a worker, the replies to the requests after it
/// wait here, copied (echoes too), and leave in order: one reply per request, in request order, per
/// connection (the wire contract). A connection with nothing at a worker has no ReplyQueue (its
/// `replies` is nil), and its replies go straight to the socket.
///
///     sleep 200 ms ─► ticket 0: computing ─────────(200 ms)───────► filled ─┐
///     echo "a"     ─► ticket 1: ready "a"  (waits: 0 is not out yet)        ├─► sent: sleep's, then "a"
///
/// That is head-of-line blocking: a slow request delays every later reply on its connection (on its
/// connection only). A protocol whose replies carry the request's id may answer out of order instead:
/// v0.10's link between the proxy and its backends does.
///
/// Loop thread only (the connection's), but for `abandoned`, which the workers read.
final class ReplyQueue {
    private enum Entry {
        case computing
        case ready([UInt8])
    }

    /// The replies owed, oldest first, from `head` on; `firstTicket` is entries[head]'s ticket.
    private var entries: [Entry] = []
    private var head = 0
    private var firstTicket = 0
    /// Set when the connection closes: a job that has not started by then is not run.
    let abandoned = Abandoned()

    /// Replies owed (a run of echoes read together counts as one).
    var count: Int { entries.count - head }
    var isEmpty: Bool { head == entries.count }
    /// Entries the array holds, those already sent included (the test that it does not grow).
    var storedEntries: Int { entries.count }

    /// Keeps a place for a reply that comes later; `fill` puts it there.
    func reserve() -> Int {
        entries.append(.computing)
        return firstTicket + count - 1
    }

    /// A reply that is ready now, to leave after those before it.
    func append(_ bytes: UnsafeRawBufferPointer) {
        entries.append(.ready(Array(bytes)))
    }

    /// Puts the reply for `ticket` in its place, then hands every reply at the front that is ready, in
    /// order, to `send`, and forgets them.
    func fill(_ ticket: Int, with bytes: [UInt8], send: (UnsafeRawBufferPointer) -> Void) {
        entries[head + ticket - firstTicket] = .ready(bytes)
        while head < entries.count, case .ready(let reply) = entries[head] {
            entries[head] = .computing            // let go of the copy now
            head += 1
            firstTicket += 1
            reply.withUnsafeBytes(send)
        }
        // The replies sent leave the array too, once they are half of it: a client that always keeps a
        // slow request in flight would otherwise grow it by one entry per request, for ever.
        if head == entries.count {
            entries.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 16 && head * 2 >= entries.count {
            entries.removeFirst(head)
            head = 0
        }
    }
}

/// Whether a connection has closed, for the workers to read: a job whose connection is gone by the
/// time a worker takes it is skipped (its reply would be dropped anyway).
final class Abandoned: Sendable {
    private let flag = Atomic<Bool>(false)

    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}
