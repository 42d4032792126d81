// BehaviourContext.swift: what a behaviour needs to talk to the server, in the stage's wire format.
import Glibc

/// How the stage under check expects bytes on the wire.
public enum WireMode: Sendable {
    /// v0.1: a message is just its bytes; the server echoes whatever it reads.
    case raw
    /// v0.2 on: a message travels as frames (see Frame); the server echoes whole frames.
    case framed
}

/// The server under check, the wire mode of the stage being checked, and the behaviour's deadline,
/// with helpers that speak the right mode. A stage-1 behaviour run against a stage-2 server says
/// `echo(payload)` and gets frames on the wire without knowing it.
public struct BehaviourContext {
    public let address: ServerAddress
    public let mode: WireMode
    /// The server's --max-frame: the largest payload one frame may carry.
    public let maxFrame: Int
    /// Every wait in the behaviour ends by then.
    public let deadline: Deadline
    /// The server's process id if the checker started it; nil under --connect (the runner skips the
    /// behaviours that need it, see ServerNeeds).
    public let serverPid: pid_t?
    /// For a server the checker started: waits up to the given time for it to exit, and says how it
    /// ended (nil if it is still running). For the behaviours that stop the server on purpose.
    public var awaitServerExit: ((Duration) -> ExitStatus?)? = nil

    /// The server's pid, for a behaviour whose `needs` is `.pid` or `.fdLimit`.
    func requireServerPid() throws -> pid_t {
        guard let serverPid else { throw CheckFailure("this behaviour reads /proc/PID of the server: run it with --server") }
        return serverPid
    }

    /// A new connection to the server.
    public func connect() throws -> WireConnection {
        try WireConnection(connectingTo: address, deadline: deadline)
    }

    /// `payload` as it goes on the wire: as is in raw mode; in framed mode, as echo frames of at
    /// most `maxFrame` payload bytes each (one empty frame for an empty payload).
    public func message(carrying payload: [UInt8]) -> [UInt8] {
        guard mode == .framed else { return payload }
        var wire: [UInt8] = []
        var start = 0
        repeat {
            let end = min(payload.count, start + maxFrame)
            wire += Frame(msgid: Frame.echoMsgid, payload: Array(payload[start..<end])).encoded
            start = end
        } while start < payload.count
        return wire
    }

    /// Sends `payload` as one message on a new connection and expects exactly that message back.
    public func echo(_ payload: [UInt8], what: String) throws {
        let connection: WireConnection
        do {
            connection = try connect()
        } catch let failure as CheckFailure {
            throw CheckFailure("connecting to send \(what): \(failure)")
        }
        try echo(payload, on: connection, what: what)
        connection.close()               // now, not whenever ARC gets to it: v0.1 serves one client at a time
    }

    /// Sends `payload` as one message on `connection` and expects exactly that message back.
    /// Sending and receiving overlap, so a message of any size works against an echo server.
    public func echo(_ payload: [UInt8], on connection: WireConnection, what: String) throws {
        let wire = message(carrying: payload)
        let echoed = try connection.exchange(sending: wire, receiving: wire.count, what: "the echo of \(what)")
        if let difference = firstDifference(expected: wire, got: echoed) {
            throw CheckFailure("the echo of \(what) differs: \(difference)")
        }
    }

    /// Receives one frame, refusing a header whose length is over `maxFrame` (a checker must not
    /// trust a length from the wire any more than a server may).
    public func receiveFrame(on connection: WireConnection, what: String) throws -> Frame {
        let header = try connection.receive(exactly: Frame.headerSize, what: "the header of \(what)")
        guard let (msgid, length) = Frame.decodeHeader(header) else { throw CheckFailure("short header") }
        guard length <= maxFrame else {
            throw CheckFailure("\(what): the header says msgid \(msgid), length \(length), over max-frame \(maxFrame)")
        }
        let payload = try connection.receive(exactly: Int(length), what: "the \(length)-byte payload of \(what)")
        return Frame(msgid: msgid, payload: payload)
    }

    /// Nil if `got` equals `expected`; else where they first differ, e.g. "at byte 4 (frame header):
    /// expected 0x00, got 0x01 (1048584 bytes)".
    public func firstDifference(expected: [UInt8], got: [UInt8]) -> String? {
        guard expected != got else { return nil }
        let common = min(expected.count, got.count)
        let offset = (0..<common).first { expected[$0] != got[$0] } ?? common
        let place = mode == .framed && offset < Frame.headerSize ? " (frame header)" : ""
        let sizes = expected.count == got.count ? "\(got.count) bytes" : "expected \(expected.count) bytes, got \(got.count)"
        let want = offset < expected.count ? hex(expected[offset]) : "nothing"
        let have = offset < got.count ? hex(got[offset]) : "nothing"
        return "at byte \(offset)\(place): expected \(want), got \(have) (\(sizes))"
    }
}
