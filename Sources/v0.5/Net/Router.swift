// Router.swift: which handler answers which msgid (Lars's msg_router), and what a handler is given.
// v0.5: new.

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
public struct RequestError: Error {
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
    /// `.handler` that copies its payload, the echo path cost <ECHO_AS_HANDLER> instructions per round
    /// trip instead of <ECHO_ROUTE> (make bench-instr 5; chapter 5's exercise 1).
    case echo
    /// `handler` builds the reply.
    case handler(Handler)
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
/// a bounds check and a load, no hashing. Filled at startup, read for every frame. Loop thread only.
public struct Router {
    /// msgids are small numbers the protocol assigns (the wire contract's table): the table stays small.
    public static let highestMsgid: UInt32 = 1023

    private var routes: [Route?] = []

    public init() {}

    /// Routes `msgid` to `route`.
    /// PITFALL: a second registration of the same msgid must fail, not replace the first: Lars's
    /// router returned -1 and went on, and its callers did not look, so whichever module registered last
    /// answered, silently. Here it is a startup error: the server does not start.
    /// Guarded by: Tests/v0.N/RouterTests.swift "registering a msgid twice is an error".
    public mutating func register(_ msgid: UInt32, _ route: Route) throws(RouterError) {
        guard msgid != FrameHeader.errorMsgid, msgid <= Router.highestMsgid else { throw .outOfRange(msgid: msgid) }
        let index = Int(msgid)
        if index >= routes.count { routes += repeatElement(nil, count: index + 1 - routes.count) }
        guard routes[index] == nil else { throw .duplicate(msgid: msgid) }
        routes[index] = route
    }

    /// What answers `msgid`; nil if nothing does (the reply is then `unknown-msgid`).
    @inline(__always)
    public func route(_ msgid: UInt32) -> Route? {
        Int(msgid) < routes.count ? routes[Int(msgid)] : nil
    }

    /// The msgids that have a route, in order.
    public var msgids: [UInt32] {
        routes.indices.filter { routes[$0] != nil }.map { UInt32($0) }
    }
}
