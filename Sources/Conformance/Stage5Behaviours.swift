// Stage5Behaviours.swift: what v0.5 (routing and connection management) promises: each msgid to its
// handler and one reply per request, in order; --max-connections refuses the extra connection and
// nobody else notices; a server that ends a connection does it with a lingering close; the count of
// open connections stays exact under churn.
import Glibc

let stage5Behaviours: [Behaviour] = [
    Behaviour("unknown-msgid", stage: 5, "an unknown msgid between two echoes gets unknown-msgid in its place, and the connection stays usable",
              check: unknownMsgid),
    Behaviour("pipelined-mixed", stage: 5, "pipelined requests of mixed msgids come back one reply each, in request order",
              check: pipelinedMixed),
    Behaviour("oversize-then-more", stage: 5, "an oversized header followed by 16 MiB: the write completes, then too-large, then end of stream",
              damaging: true, timeout: .seconds(15), check: oversizeThenMore),
    Behaviour("busy-while-writing", stage: 5, "the connection over --max-connections 3, writing 16 MiB, completes its write, then reads busy and end of stream",
              needs: .flags("--max-connections 3"), timeout: .seconds(15), check: busyWhileWriting),
    Behaviour("churned-connections", stage: 5, "1,000 connections, a fifth reset mid-frame, leave connections_open 1 and the fd count at its baseline",
              needs: .pid, timeout: .seconds(30), check: churnedConnections),
]

/// The msgids of the wire contract this stage uses.
let statsMsgid: UInt32 = 2
/// A msgid no stage answers.
private let unroutedMsgid: UInt32 = 99

/// Echo, a msgid nobody routes, echo, sent in one write: the replies are the echo, an error frame
/// `unknown-msgid 99 ...`, the echo; and the connection then echoes again.
private func unknownMsgid(_ context: BehaviourContext) throws {
    let connection = try context.connect()
    let first = Frame(msgid: Frame.echoMsgid, payload: Array("before".utf8))
    let second = Frame(msgid: Frame.echoMsgid, payload: Array("after".utf8))
    try connection.send(first.encoded + Frame(msgid: unroutedMsgid, payload: Array("anyone?".utf8)).encoded + second.encoded,
                        what: "an echo, msgid \(unroutedMsgid), an echo")
    try expectFrame(first, context.receiveFrame(on: connection, what: "the reply to the first echo"), "the reply to the first echo")
    try expectError("unknown-msgid", context.receiveFrame(on: connection, what: "the reply to msgid \(unroutedMsgid)"),
                    "the reply to msgid \(unroutedMsgid) (between two echoes)")
    try expectFrame(second, context.receiveFrame(on: connection, what: "the reply to the second echo"), "the reply to the second echo")
    try context.echo(Array("still served".utf8), on: connection, what: "an echo after the unknown msgid")
    connection.close()
}

/// Seven requests in one write, each answered by a different path of the server: echo, stats, echo
/// (empty), a msgid nobody routes, msgid 0 (only servers send error frames), stats with a payload
/// (stats takes none), echo. One reply each, in that order.
private func pipelinedMixed(_ context: BehaviourContext) throws {
    let connection = try context.connect()
    let echo1 = Frame(msgid: Frame.echoMsgid, payload: Array("one".utf8))
    let echo2 = Frame(msgid: Frame.echoMsgid, payload: [])
    let echo3 = Frame(msgid: Frame.echoMsgid, payload: PseudoRandom.bytes(3000, seed: 51))
    let requests = [echo1, Frame(msgid: statsMsgid, payload: []), echo2, Frame(msgid: unroutedMsgid, payload: [1]),
                    Frame(msgid: Frame.errorMsgid, payload: Array("not yours".utf8)), Frame(msgid: statsMsgid, payload: [1, 2]), echo3]
    try connection.send(requests.flatMap(\.encoded), what: "7 pipelined requests of mixed msgids")
    func next(_ index: Int) throws -> Frame {
        try context.receiveFrame(on: connection, what: "reply \(index + 1) of 7")
    }
    try expectFrame(echo1, next(0), "reply 1 of 7 (an echo)")
    let stats = try next(1)
    guard stats.msgid == statsMsgid, String(decoding: stats.payload, as: UTF8.self).contains("connections_open ") else {
        throw CheckFailure("reply 2 of 7 should be stats (msgid 2, a `connections_open N` line), got msgid \(stats.msgid): \(preview(stats.payload))")
    }
    try expectFrame(echo2, next(2), "reply 3 of 7 (an empty echo)")
    try expectError("unknown-msgid", next(3), "reply 4 of 7 (msgid \(unroutedMsgid))")
    try expectError("bad-request", next(4), "reply 5 of 7 (msgid 0 from a client)")
    try expectError("bad-request", next(5), "reply 6 of 7 (stats with a payload)")
    try expectFrame(echo3, next(6), "reply 7 of 7 (an echo)")
    connection.close()
}

/// A header over --max-frame, then 16 MiB more, written without reading: a client that pipelines
/// its whole upload. The server must let the write complete (reading and discarding), then the
/// client reads `too-large` and a clean end of stream. A plain close with our bytes unread sends a
/// reset instead: the write fails with ECONNRESET or EPIPE, often before the error frame is read.
private func oversizeThenMore(_ context: BehaviourContext) throws {
    let connection = try context.connect()
    let length = UInt32(clamping: context.maxFrame + 1)
    let upload = Frame.header(msgid: Frame.echoMsgid, length: length) + [UInt8](repeating: 0x5a, count: 16 << 20)
    try sendWhole(upload, on: connection, what: "a header announcing \(length) bytes and 16 MiB after it")
    try expectError("too-large", context.receiveFrame(on: connection, what: "the error frame"), "the reply to the oversized header")
    try connection.expectCleanEnd(after: "the too-large error frame")
    try context.echo(Array("after an oversized upload".utf8), what: "a new client's message")
}

/// --max-connections 3: three clients are served; the fourth is refused with `busy` while it writes
/// 16 MiB, and its write completes (lingering close); the three notice nothing. Then one of the
/// three leaves, and a new client is served: the slot is free again.
private func busyWhileWriting(_ context: BehaviourContext) throws {
    let served = try (1...3).map { index in
        let connection = try context.connect()
        try context.echo(Array("client \(index) of 3".utf8), on: connection, what: "client \(index)'s message")
        return connection
    }
    let extra = try context.connect()
    let upload = (0..<16).flatMap { _ in Frame(msgid: Frame.echoMsgid, payload: [UInt8](repeating: 0x41, count: (1 << 20) - 8)).encoded }
    try sendWhole(upload, on: extra, what: "16 MiB from the fourth client, over --max-connections 3")
    try expectError("busy", context.receiveFrame(on: extra, what: "the fourth client's reply"), "the reply to a connection over the limit")
    try extra.expectCleanEnd(after: "the busy error frame")
    extra.close()
    for (index, connection) in served.enumerated() {
        try context.echo(Array("client \(index + 1), after the refusal".utf8), on: connection, what: "client \(index + 1)'s message after the refusal")
    }
    served[0].close()
    try awaitStats(context, on: served[1], until: "connections_open", is: 2, what: "after client 1 left")
    let next = try context.connect()
    try context.echo(Array("a client in the freed slot".utf8), on: next, what: "a new client's message once a slot is free")
}

/// 1,000 connections one after another, every fifth reset in the middle of a frame, the others
/// closed after an echo or at once. Afterwards stats must say `connections_open 1` (the asking
/// connection), and the fd count must be back at its baseline: no connection counted twice (a
/// double decrement drives the count down), none forgotten.
private func churnedConnections(_ context: BehaviourContext) throws {
    let pid = try context.requireServerPid()
    try context.echo(Array("warm-up".utf8), what: "a warm-up message")
    let baseline = try ProcessStats.openFileCount(of: pid)
    let frame = Frame(msgid: Frame.echoMsgid, payload: PseudoRandom.bytes(200, seed: 52)).encoded
    for cycle in 0..<1000 {
        let connection = try context.connect()
        switch cycle % 5 {
        case 0:
            try connection.send(Array(frame.prefix(100)), what: "half a frame in cycle \(cycle)")
            try connection.reset()
        case 1, 2:
            try context.echo(Array("cycle \(cycle)".utf8), on: connection, what: "the message of cycle \(cycle)")
            connection.close()
        default:
            connection.close()
        }
    }
    let asking = try context.connect()
    try awaitStats(context, on: asking, until: "connections_open", is: 1, what: "after 1,000 connections came and went")
    var count = try ProcessStats.openFileCount(of: pid)
    let settle = Deadline.after(.seconds(5), within: context.deadline)
    while count > baseline + 1 && !settle.hasPassed {       // + 1: the asking connection
        sysSleep(.milliseconds(10))
        count = try ProcessStats.openFileCount(of: pid)
    }
    if count > baseline + 1 {
        throw CheckFailure("the server had \(baseline) fds open before 1,000 connections and \(count) after (one connection open): \(count - baseline - 1) not closed")
    }
}

// MARK: helpers

/// Sends all of `bytes` before reading anything; a failed send is the server closing on us.
private func sendWhole(_ bytes: [UInt8], on connection: WireConnection, what: String) throws {
    do {
        try connection.sendWithoutReading(bytes, what: what)
    } catch let failure as CheckFailure {
        throw CheckFailure("\(failure): a server that ends a connection must not close with our bytes unread (a lingering close reads and discards them)")
    }
}

/// Asks for stats on `connection` until line `name` says `value`, or the deadline: the server closes
/// the connections that left a moment after they leave.
func awaitStats(_ context: BehaviourContext, on connection: WireConnection, until name: String, is value: Int, what: String) throws {
    var last: Int?
    while true {
        let stats = try readStats(context, on: connection)
        guard let now = stats[name] else { throw CheckFailure("the stats reply has no `\(name)` line: \(stats.keys.sorted())") }
        last = now
        if now == value { return }
        if context.deadline.remaining < .milliseconds(50) { break }
        sysSleep(.milliseconds(20))
    }
    throw CheckFailure("\(what), stats said `\(name) \(last ?? -1)` until the deadline, expected `\(name) \(value)`")
}

/// Asks for stats on `connection`: its `name value` lines, by name.
func readStats(_ context: BehaviourContext, on connection: WireConnection) throws -> [String: Int] {
    try connection.send(Frame(msgid: statsMsgid, payload: []).encoded, what: "a stats request")
    let reply = try context.receiveFrame(on: connection, what: "the stats reply")
    guard reply.msgid == statsMsgid else { throw CheckFailure("expected a stats reply (msgid 2), got msgid \(reply.msgid): \(preview(reply.payload))") }
    var stats: [String: Int] = [:]
    for line in String(decoding: reply.payload, as: UTF8.self).split(separator: "\n") {
        let parts = line.split(separator: " ")
        if parts.count == 2, let value = Int(parts[1]) { stats[String(parts[0])] = value }
    }
    return stats
}

func expectFrame(_ expected: Frame, _ got: Frame, _ what: String) throws {
    guard got != expected else { return }
    throw CheckFailure("\(what): expected msgid \(expected.msgid) with \(preview(expected.payload)), got msgid \(got.msgid) with \(preview(got.payload))")
}

/// An error frame (msgid 0) whose text starts with `code` and a space.
func expectError(_ code: String, _ got: Frame, _ what: String) throws {
    let text = String(decoding: got.payload, as: UTF8.self)
    guard got.msgid == Frame.errorMsgid, text.hasPrefix(code + " ") else {
        throw CheckFailure("\(what): expected an error frame `\(code) ...`, got msgid \(got.msgid) with \(preview(got.payload))")
    }
}

/// A short printable form of a payload, for messages.
func preview(_ bytes: [UInt8]) -> String {
    let text = String(decoding: bytes.prefix(60), as: UTF8.self)
    return "\"\(text)\"" + (bytes.count > 60 ? " (\(bytes.count) bytes)" : "")
}
