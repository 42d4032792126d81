// Router.swift: which handler answers which msgid (Lars's msg_router), and what a handler is given.
// v0.5: new.
// v0.7: slow routes, whose handlers run on the worker pool (msgid 3 sleep, 4 compute).

/// One request, lent to its handler for the duration of the call.
public struct Request {
    public let msgid: UInt32
    /// The bytes after the header. They live in the read buffer: valid only during the call.
    public let payload: UnsafeRawBufferPointer
    /// The connection it came on: a handler may keep per-connection state in its `context`.
    public let connection: TCPConnection
}

/// A handler refuses its request: the reply is an error frame (`bad-request ...`), in the request's
/// place in the order, and the connection stays open.
public struct RequestError: Error, Sendable {
    public let code: ErrorCode
    public let reason: String

    public init(_ code: ErrorCode, _ reason: String) {
        self.code = code
        self.reason = reason
    }
}

/// Answers one request by appending its reply's payload to `reply`; the reply frame gets the request's
/// msgid. Exactly one reply per request, by construction: a handler cannot forget to answer, or answer
/// twice, and the replies leave in request order.
public typealias Handler = (_ request: Request, _ reply: IOBuffer) throws(RequestError) -> Void

/// What answers a msgid.
public enum Route {
    /// The reply is the request frame itself, byte for byte (msgid 1). The server sends a run of echo
    /// frames back with one send(), straight out of the read buffer: no call, no copy. Registered as a
    /// `.handler` that copies its payload, the echo path cost 911 instructions per round
    /// trip instead of 142 (a pooled reply buffer, the closure retained, the copies; make bench-instr 5).
    case echo
    /// `handler` builds the reply.
    case handler(Handler)
    /// `handler` builds the reply's payload, on the worker pool: it may block or run long (v0.7).
    case slow(SlowHandler)
}

/// Registering a route went wrong: a startup error, never something a client can cause.
public enum RouterError: Error, CustomStringConvertible, Equatable {
    case duplicate(msgid: UInt32)
    case outOfRange(msgid: UInt32)

    public var description: String {
        switch self {
        case .duplicate(let msgid): "msgid \(msgid) is registered twice"
        case .outOfRange(let msgid): "msgid \(msgid) cannot be routed: use 1...\(Router.highestMsgid) (0 is the error frame)"
        }
    }
}

/// A table from msgid to Route, indexed by msgid like the loop's handler table is by fd: a lookup is
/// a comparison and a load, no hashing. Each slot also counts the requests that came for its msgid
/// (stats' `requests_msgid_N`). Filled at startup, read for every frame. Loop thread only.
///
/// A noncopyable struct: it owns its raw table and frees it in deinit, and a copy, which would free it
/// a second time, is a compile error.
public struct Router: ~Copyable {
    /// msgids are small numbers the protocol assigns (the wire contract's table): the table stays small.
    public static let highestMsgid: UInt32 = 1023

    /// What a msgid's route is, in one byte: the per-frame lookup reads only this. (Reading a `Route?`
    /// out of an array copies it, which retains and releases the closure of a `.handler`: 18 of 222
    /// instructions per round trip, make bench-instr 5.)
    public enum Kind: UInt8 {
        case none, echo, handler, slow
    }

    /// One msgid's slot.
    struct Slot {
        var kind = Kind.none
        /// Requests that came with this msgid, routed or not.
        var requests = 0
    }

    /// One slot per msgid up to highestMsgid, and one more shared by every msgid above it (never routed).
    /// Raw memory, not an array: the count in a slot goes up for every frame, and an array would first
    /// check that its storage is not shared (copy-on-write), and check the index: 10 of 175 instructions
    /// per round trip (make bench-instr 5). Allocated once, freed in deinit.
    private let slots = UnsafeMutableBufferPointer<Slot>.allocate(capacity: Int(Router.highestMsgid) + 2)
    /// The handlers, by msgid (nil where the kind is not .handler).
    private var handlers = [Handler?](repeating: nil, count: Int(Router.highestMsgid) + 1)
    /// The slow handlers, by msgid (nil where the kind is not .slow).
    private var slowHandlers = [SlowHandler?](repeating: nil, count: Int(Router.highestMsgid) + 1)

    public init() {
        slots.initialize(repeating: Slot())
    }

    deinit {
        slots.deallocate()
    }

    /// Routes `msgid` to `route`.
    /// PITFALL: a second registration of the same msgid must fail, not replace the first: Lars's
    /// router returned -1 and went on, and its callers did not look, so whichever module registered last
    /// answered, silently. Here it is a startup error: the server does not start.
    /// Guarded by: Tests/v0.N/RouterTests.swift "registering a msgid twice is an error".
    public mutating func register(_ msgid: UInt32, _ route: Route) throws(RouterError) {
        guard msgid != FrameHeader.errorMsgid, msgid <= Router.highestMsgid else { throw .outOfRange(msgid: msgid) }
        guard slots[Int(msgid)].kind == .none else { throw .duplicate(msgid: msgid) }
        switch route {
        case .echo:
            slots[Int(msgid)].kind = .echo
        case .handler(let handler):
            slots[Int(msgid)].kind = .handler
            handlers[Int(msgid)] = handler
        case .slow(let handler):
            slots[Int(msgid)].kind = .slow
            slowHandlers[Int(msgid)] = handler
        }
    }

    /// Counts a request for `msgid` and says what kind of route it has: .none if it has none (the reply
    /// is then `unknown-msgid`).
    @inline(__always)
    func route(_ msgid: UInt32) -> Kind {
        let slot = slots.baseAddress.unsafelyUnwrapped + Int(min(msgid, Router.highestMsgid + 1))
        // Wrapping (&+=), not checked: a counter would take centuries to reach Int.max, and the overflow
        // checks on the echo path's two counters cost 10 instructions per round trip, 141.9 against 131.8
        // (the registers they keep busy count more than the checks themselves; make bench-instr 5).
        slot.pointee.requests &+= 1
        return slot.pointee.kind
    }

    /// What kind of route `msgid` has, without counting a request.
    func kind(_ msgid: UInt32) -> Kind {
        slots[Int(min(msgid, Router.highestMsgid + 1))].kind
    }

    /// The handler of a msgid whose kind is .handler.
    func handler(_ msgid: UInt32) -> Handler {
        handlers[Int(msgid)]!
    }

    /// The handler of a msgid whose kind is .slow.
    func slowHandler(_ msgid: UInt32) -> SlowHandler {
        slowHandlers[Int(msgid)]!
    }

    /// The msgids that have a route, in order.
    public var msgids: [UInt32] {
        (0...Router.highestMsgid).filter { slots[Int($0)].kind != .none }
    }

    /// Requests that came for `msgid`.
    func requests(_ msgid: UInt32) -> Int {
        slots[Int(msgid)].requests
    }

    /// Requests for every msgid: all frames received.
    var requestsTotal: Int {
        slots.reduce(0) { $0 + $1.requests }
    }

    /// Requests for msgids without a route.
    var requestsUnrouted: Int {
        slots.reduce(0) { $1.kind == .none ? $0 + $1.requests : $0 }
    }

    /// Requests answered by `.echo`: each one also an echo frame sent.
    var requestsEchoed: Int {
        slots.reduce(0) { $1.kind == .echo ? $0 + $1.requests : $0 }
    }
}
