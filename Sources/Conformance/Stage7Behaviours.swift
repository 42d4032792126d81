// Stage7Behaviours.swift: what v0.7 (threads) promises: connections spread evenly over the I/O loops;
// a slow request (msgid 3 sleep, 4 compute) delays nobody else, keeps its connection's reply order, is
// answered `busy` when the worker queue is full, and never lands on a closed or reused connection;
// compute answers the wire contract's FNV-1a value.
import Glibc

let stage7Behaviours: [Behaviour] = [
    Behaviour("loops-spread", stage: 7, "with --io-threads 3, 12 connections land 4 on each loop (stats' loop_K_connections)",
              needs: .flags("--io-threads 3"), timeout: .seconds(10), check: loopsSpread),
    Behaviour("sleep-then-echo", stage: 7, "a 4 s sleep then an echo on one connection come back in that order; another connection's echoes come back meanwhile",
              needs: .flags("--workers 2"), timeout: .seconds(15), check: sleepThenEcho),
    Behaviour("queue-full-busy", stage: 7, "with --workers 1 --queue 1, the slow request that finds the queue full gets busy in its place, and echoes go on",
              needs: .flags("--workers 1 --queue 1"), timeout: .seconds(15), check: queueFullBusy),
    Behaviour("slow-then-close", stage: 7, "200 clients each send a slow request and close at once: no crash, no stray reply to a later client, fds back at baseline",
              needs: .flags("--workers 2"), timeout: .seconds(20), check: slowThenClose),
    Behaviour("compute-fnv", stage: 7, "compute replies with FNV-1a-64 rounds as the contract says; sleep echoes its bytes; bad payloads get bad-request",
              check: computeFNV),
]

private let sleepMsgid: UInt32 = 3
private let computeMsgid: UInt32 = 4

extension Frame {
    /// A sleep request (msgid 3): `milliseconds`, then `text`, which comes back after that delay.
    public static func sleep(_ milliseconds: UInt32, _ text: String) -> Frame {
        Frame(msgid: sleepMsgid, payload: bigEndian(milliseconds) + Array(text.utf8))
    }
}

private func bigEndian(_ value: UInt32) -> [UInt8] {
    withUnsafeBytes(of: value.bigEndian) { Array($0) }
}

/// 12 connections to a server with three I/O loops: the round-robin hand-off puts 4 on each. (A turn
/// that never advances puts all 12 on one loop.)
private func loopsSpread(_ context: BehaviourContext) throws {
    var connections: [WireConnection] = []
    for _ in 0..<12 { connections.append(try context.connect()) }
    let asking = connections[11]
    try awaitStats(context, on: asking, until: "connections_open", is: 12, what: "with 12 connections open")
    let stats = try readStats(context, on: asking)
    let perLoop = (0..<3).map { stats["loop_\($0)_connections"] }
    guard perLoop == [4, 4, 4] else {
        throw CheckFailure("12 connections over 3 I/O loops: stats say loop_0..2_connections \(perLoop.map { $0.map(String.init) ?? "missing" }), expected 4 each")
    }
    for connection in connections { connection.close() }
}

/// One connection sends a 4 s sleep and an echo in one write; while it waits, another connection's
/// echoes must come back (a worker sleeps, not the loop); then the first gets the sleep's reply, then
/// the echo's, in request order (head-of-line blocking on that connection only).
private func sleepThenEcho(_ context: BehaviourContext) throws {
    let slow = try context.connect()
    let other = try context.connect()
    // 4 s: time enough for five round trips on a loaded machine, under the sanitizers too.
    let sleep = Frame.sleep(4000, "slept"), echo = Frame(msgid: Frame.echoMsgid, payload: Array("after the sleep".utf8))
    try slow.send(sleep.encoded + echo.encoded, what: "a 4 s sleep and an echo")
    for round in 0..<5 {
        try context.echo(Array("meanwhile \(round)".utf8), on: other, what: "another connection's echo \(round) during the sleep")
    }
    guard try slow.receiveAvailable(upTo: 1, what: "nothing yet").isEmpty else {
        throw CheckFailure("the sleeping connection had a reply before 5 echoes on another connection were done: either the other connection waited for the sleep (is it run on the loop?), or the echo overtook it")
    }
    let first = try context.receiveFrame(on: slow, what: "the first reply on the sleeping connection")
    guard first == Frame(msgid: sleepMsgid, payload: Array("slept".utf8)) else {
        throw CheckFailure("the first reply after a sleep and an echo should be the sleep's (msgid 3 \"slept\"), got msgid \(first.msgid) with \(preview(first.payload)): replies must keep request order")
    }
    try expectFrame(echo, context.receiveFrame(on: slow, what: "the echo after the sleep"), "the reply to the echo sent after the sleep")
}

/// One worker and a queue of one: a 5 s sleep keeps the worker busy (stats say so), a second sleep
/// waits in the queue, a third finds it full and gets `busy`; an echo after them comes last. The
/// replies keep request order: sleep, sleep, busy, echo. Another connection's echo is answered meanwhile.
private func queueFullBusy(_ context: BehaviourContext) throws {
    let asking = try context.connect()
    let slow = try context.connect()
    let other = try context.connect()
    // 5 s: the next three requests must arrive while it runs, on a loaded machine too.
    try slow.send(Frame.sleep(5000, "one").encoded, what: "a 5 s sleep")
    try awaitStats(context, on: asking, until: "worker_jobs_running", is: 1, what: "once the worker took the first sleep")
    let echo = Frame(msgid: Frame.echoMsgid, payload: Array("four".utf8))
    try slow.send(Frame.sleep(10, "two").encoded + Frame.sleep(0, "three").encoded + echo.encoded,
                  what: "a second sleep (queued), a third (the queue is full) and an echo")
    try context.echo(Array("not stalled".utf8), on: other, what: "another connection's echo while the worker is busy")
    try expectFrame(Frame(msgid: sleepMsgid, payload: Array("one".utf8)), context.receiveFrame(on: slow, what: "reply 1 of 4"), "reply 1 of 4 (the first sleep)")
    try expectFrame(Frame(msgid: sleepMsgid, payload: Array("two".utf8)), context.receiveFrame(on: slow, what: "reply 2 of 4"), "reply 2 of 4 (the queued sleep)")
    try expectError("busy", context.receiveFrame(on: slow, what: "reply 3 of 4"), "reply 3 of 4 (the sleep that found the queue full)")
    try expectFrame(echo, context.receiveFrame(on: slow, what: "reply 4 of 4"), "reply 4 of 4 (the echo)")
}

/// 200 clients each send a 20 ms sleep and close at once (every fourth with a reset). The work of a
/// closed connection comes back to nobody: 20 clients that connect afterwards, on the reused fd
/// numbers, each get exactly the reply to their own echo; then, with the workers idle, stats say one
/// connection open and the fd count is back at its baseline.
private func slowThenClose(_ context: BehaviourContext) throws {
    let pid = try context.requireServerPid()
    let asking = try context.connect()
    try context.echo(Array("warm-up".utf8), on: asking, what: "a warm-up message")
    let baseline = try ProcessStats.openFileCount(of: pid)
    for client in 0..<200 {
        let connection = try context.connect()
        try connection.send(Frame.sleep(20, "for client \(client)").encoded, what: "client \(client)'s sleep")
        if client % 4 == 0 { try connection.reset() } else { connection.close() }
    }
    for client in 0..<20 {
        let connection = try context.connect()
        let echo = Frame(msgid: Frame.echoMsgid, payload: Array("late client \(client)".utf8))
        try connection.send(echo.encoded, what: "late client \(client)'s echo")
        try expectFrame(echo, context.receiveFrame(on: connection, what: "late client \(client)'s reply"), "late client \(client)'s only reply")
        connection.close()
    }
    try awaitStats(context, on: asking, until: "worker_jobs_running", is: 0, what: "once the workers were idle")
    try awaitStats(context, on: asking, until: "connections_open", is: 1, what: "after 220 clients came and went")
    var count = try ProcessStats.openFileCount(of: pid)
    let settle = Deadline.after(.seconds(5), within: context.deadline)
    while count > baseline && !settle.hasPassed {
        sysSleep(.milliseconds(10))
        count = try ProcessStats.openFileCount(of: pid)
    }
    if count > baseline {
        throw CheckFailure("the server had \(baseline) fds open before 200 clients sent a slow request and closed, and \(count) after")
    }
}

/// FNV-1a, 64 bits (the wire contract's compute): for each byte, xor it in, multiply by the prime.
func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01b3
    }
    return hash
}

/// compute's reply for `rounds` over `data`, as the contract defines it.
func computeExpected(rounds: UInt32, _ data: [UInt8]) -> [UInt8] {
    var hash = fnv1a64(data)
    for _ in 1..<max(rounds, 1) { hash = fnv1a64(withUnsafeBytes(of: hash.bigEndian) { Array($0) }) }
    return withUnsafeBytes(of: hash.bigEndian) { Array($0) }
}

/// compute over an empty payload, a short one and 3,000 random bytes, with 1, 2 and 1,000 rounds;
/// sleep 0 ms with bytes; then the bad payloads: short, rounds 0, more than 1,000,000 rounds, a sleep
/// over 10,000 ms. Each bad one gets bad-request, and the connection goes on.
private func computeFNV(_ context: BehaviourContext) throws {
    let connection = try context.connect()
    let cases: [(UInt32, [UInt8])] = [(1, []), (1, Array("hello".utf8)), (2, Array("hello".utf8)), (1000, PseudoRandom.bytes(3000, seed: 71))]
    for (rounds, data) in cases {
        try connection.send(Frame(msgid: computeMsgid, payload: bigEndian(rounds) + data).encoded, what: "compute, \(rounds) rounds over \(data.count) bytes")
        let reply = try context.receiveFrame(on: connection, what: "the compute reply")
        let expected = Frame(msgid: computeMsgid, payload: computeExpected(rounds: rounds, data))
        try expectFrame(expected, reply, "compute, \(rounds) rounds over \(data.count) bytes")
    }
    let sleep = Frame.sleep(0, "no wait")
    try connection.send(sleep.encoded, what: "a 0 ms sleep")
    try expectFrame(Frame(msgid: sleepMsgid, payload: Array("no wait".utf8)), context.receiveFrame(on: connection, what: "the sleep's reply"), "a 0 ms sleep")
    let bad: [(Frame, String)] = [(Frame(msgid: computeMsgid, payload: [0, 1]), "compute with 2 bytes"),
                                  (Frame(msgid: computeMsgid, payload: bigEndian(0)), "compute with 0 rounds"),
                                  (Frame(msgid: computeMsgid, payload: bigEndian(1_000_001)), "compute with 1,000,001 rounds"),
                                  (Frame(msgid: sleepMsgid, payload: bigEndian(10_001)), "sleep for 10,001 ms"),
                                  (Frame(msgid: sleepMsgid, payload: []), "sleep with no payload")]
    try connection.send(bad.flatMap(\.0.encoded), what: "five bad slow requests")
    for (_, what) in bad {
        try expectError("bad-request", context.receiveFrame(on: connection, what: "the reply to \(what)"), what)
    }
    try context.echo(Array("still served".utf8), on: connection, what: "an echo after the bad requests")
}
