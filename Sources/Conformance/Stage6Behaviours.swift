// Stage6Behaviours.swift: what v0.6 (timers, signals, water marks) promises: a connection that is
// idle, too slow with a frame, or not reading is closed at its deadline, and nobody else is; a peer
// that never reads costs a bounded amount of memory; SIGTERM stops the server gracefully.
import Glibc

let stage6Behaviours: [Behaviour] = [
    Behaviour("idle-timeout", stage: 6, "with --idle-timeout 1s an idle connection is closed within 1-4 s, and an active one never is",
              needs: .flags("--idle-timeout 1s"), timeout: .seconds(10), check: idleTimeout),
    Behaviour("slowloris", stage: 6, "with --frame-timeout 1s a frame sent one byte per 200 ms is cut off by 4 s, not kept alive by each byte",
              needs: .flags("--frame-timeout 1s"), timeout: .seconds(10), check: slowloris),
    Behaviour("never-reader-bounded", stage: 6, "with --write-timeout 2s a peer that never reads grows the server by at most the high-water mark plus 12 MiB, and is closed",
              needs: .flags("--write-timeout 2s"), timeout: .seconds(20), check: neverReaderBounded),
    Behaviour("sigterm-mid-pipeline", stage: 6, "SIGTERM with 50 clients mid-pipeline: every frame answered, then end of stream; the port closes; exit 0 within the grace",
              needs: .flags("--grace 5s"), endsServer: true, timeout: .seconds(20), check: sigtermMidPipeline),
]

/// Two connections: one says nothing, the other sends an echo every 250 ms for 2.5 s. The first must be
/// closed (end of stream, or a reset) between 1 s and 4 s after it connected; the second never. (4 s,
/// not 2.5: a server checks its deadlines now and then, not at the instant, and a slow machine, or
/// one under the sanitizers, makes it later still. A timeout that never fires still fails.)
private func idleTimeout(_ context: BehaviourContext) throws {
    let started = ContinuousClock.now
    let idle = try context.connect()
    let active = try context.connect()
    var closedAfter: Duration?
    var round = 0
    while ContinuousClock.now - started < .milliseconds(2500) {
        try context.echo(Array("still here, \(round)".utf8), on: active, what: "the active connection's message \(round)")
        round += 1
        if closedAfter == nil, try idle.hasEnded() { closedAfter = ContinuousClock.now - started }
        sysSleep(.milliseconds(250))
    }
    let settle = Deadline.after(.seconds(4) - (ContinuousClock.now - started), within: context.deadline)
    while closedAfter == nil && !settle.hasPassed {
        if try idle.hasEnded() { closedAfter = ContinuousClock.now - started } else { sysSleep(.milliseconds(50)) }
    }
    guard let closedAfter else {
        throw CheckFailure("the idle connection was still open 4 s after it connected, with --idle-timeout 1s")
    }
    if closedAfter < .milliseconds(900) {
        throw CheckFailure("the idle connection was closed after \(closedAfter.readable), before its 1 s --idle-timeout")
    }
    try context.echo(Array("after 2.5 s".utf8), on: active, what: "the active connection's last message")
}

/// One frame (a 30-byte payload), one byte every 200 ms: 7.6 s for the whole frame. With
/// --frame-timeout 1s the server must close the connection about 1 s after the first byte, whatever
/// the bytes since (by 4 s, for a slow machine); a deadline moved by every byte never comes.
private func slowloris(_ context: BehaviourContext) throws {
    let connection = try context.connect()
    let frame = Frame(msgid: Frame.echoMsgid, payload: [UInt8](repeating: 0x73, count: 30)).encoded
    let started = ContinuousClock.now
    for (index, byte) in frame.enumerated() {
        if try connection.hasEnded() {
            let after = ContinuousClock.now - started
            guard after <= .seconds(4) else {
                throw CheckFailure("the slow frame was cut off only after \(after.readable) (byte \(index) of \(frame.count)), with --frame-timeout 1s")
            }
            try context.echo(Array("after a slowloris".utf8), what: "a new client's message")
            return
        }
        guard (try? connection.send([byte], what: "byte \(index) of a slow frame")) != nil else { continue }
        sysSleep(.milliseconds(200))
    }
    throw CheckFailure("the server took a whole \(frame.count)-byte frame sent one byte per 200 ms (\((ContinuousClock.now - started).readable)), with --frame-timeout 1s")
}

/// A client sends frames and never reads, up to 64 MiB: the server must stop reading it once it owes
/// the high-water mark (4 MiB by default), so its memory grows by little more than that; and with
/// --write-timeout 2s, the server closes the connection once its output has not moved for 2 s.
private func neverReaderBounded(_ context: BehaviourContext) throws {
    let pid = try context.requireServerPid()
    let before = try ProcessStats.residentBytes(of: pid)
    let client = try context.connect()
    let chunk = (0..<16).flatMap { context.message(carrying: PseudoRandom.bytes(min(64 << 10, context.maxFrame), seed: 60 + UInt64($0))) }
    var sent = 0, offset = 0
    var stalled = false
    while sent < 64 << 20 && !context.deadline.hasPassed {
        let n = (try? client.sendAvailable(chunk, from: offset, what: "frames never read back")) ?? -1
        if n < 0 { break }                                  // the server closed on us: sending failed
        sent += n
        offset = (offset + n) % chunk.count
        if n == 0, try !client.awaitWritable(within: .milliseconds(300)) { stalled = true; break }
    }
    let after = try ProcessStats.residentBytes(of: pid)
    let allowed = (4 << 20) + (12 << 20)
    if after - before > allowed {
        throw CheckFailure("the server's resident memory grew by \((after - before) >> 20) MiB while a client sent \(sent >> 20) MiB"
            + " without reading (at most the 4 MiB high-water mark and 12 MiB more allowed)")
    }
    if stalled {
        let closing = Deadline.after(.seconds(5), within: context.deadline)
        while !closing.hasPassed {
            if try client.peerHasClosed() { return }
            sysSleep(.milliseconds(50))
        }
        throw CheckFailure("a client that never read was still connected 5 s after its writes stalled, with --write-timeout 2s")
    }
}

/// 50 clients each send 20 frames in one write and read the first reply; then SIGTERM. Each must get
/// all 20 replies, in order, then a clean end of stream; from the first end of stream on the server
/// holds no listening socket; and it exits with status 0 within its 5 s grace.
private func sigtermMidPipeline(_ context: BehaviourContext) throws {
    let pid = try context.requireServerPid()
    guard let awaitExit = context.awaitServerExit else { throw CheckFailure("this behaviour stops the server: run it with --server") }
    let clients = try (0..<50).map { _ in try context.connect() }
    let requests = clients.indices.map { client in
        (0..<20).flatMap { Frame(msgid: Frame.echoMsgid, payload: Array("client \(client), frame \($0)".utf8)).encoded }
    }
    for (index, client) in clients.enumerated() { try client.send(requests[index], what: "client \(index + 1)'s 20 frames") }
    let firstReply = Frame(msgid: Frame.echoMsgid, payload: Array("client 0, frame 0".utf8)).encoded
    _ = try clients[0].receive(exactly: firstReply.count, what: "client 1's first reply")
    guard kill(pid, SIGTERM) == 0 else { throw CheckFailure("kill(\(pid), SIGTERM) failed: \(errnoName(errno))") }
    let rest = try clients[0].receive(exactly: requests[0].count - firstReply.count, what: "client 1's other 19 replies after SIGTERM")
    if let difference = context.firstDifference(expected: requests[0], got: firstReply + rest) {
        throw CheckFailure("client 1's replies after SIGTERM differ: \(difference)")
    }
    try clients[0].expectCleanEnd(after: "client 1's 20 replies")
    if let status = awaitExit(.milliseconds(100)), status != .exited(0) {
        throw CheckFailure("after SIGTERM the server \(status), instead of stopping gracefully (are SIGINT and SIGTERM blocked, and read from a signalfd?)")
    }
    let listening = try ProcessStats.listeningSocketCount(of: pid)
    if listening > 0 { throw CheckFailure("the server still had \(listening) listening socket(s) after a client saw its end of stream") }
    for (index, client) in clients.enumerated().dropFirst() {
        let replies = try client.receive(exactly: requests[index].count, what: "client \(index + 1)'s 20 replies after SIGTERM")
        if let difference = context.firstDifference(expected: requests[index], got: replies) {
            throw CheckFailure("client \(index + 1)'s replies after SIGTERM differ: \(difference)")
        }
        try client.expectCleanEnd(after: "client \(index + 1)'s 20 replies")
    }
    // Closed, their lingering closes end: the server need not wait out the grace, and has 10 s.
    for client in clients { client.close() }
    guard let status = awaitExit(.seconds(10)) else { throw CheckFailure("the server was still running 10 s after SIGTERM (--grace 5s), with every client closed") }
    if status != .exited(0) { throw CheckFailure("after SIGTERM the server \(status), expected exit status 0") }
}
