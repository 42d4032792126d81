// Stage3ResourceBehaviours.swift: the v0.3 rungs that also watch the server process through
// /proc/PID (ProcessStats): its fds come back, it does not spin at its fd limit, its memory stays
// bounded. They need the server's pid, so they are skipped under --connect.
import Glibc

let stage3ResourceBehaviours: [Behaviour] = [
    Behaviour("fd-baseline", stage: 3, "after 2,000 connect/close cycles the server's fd count returns to its baseline",
              needs: .pid, timeout: .seconds(30), check: fdBaseline),
    Behaviour("fd-limit", stage: 3, "at its fd limit (ulimit -n 64) the server neither spins nor stops serving",
              needs: .fdLimit(64), timeout: .seconds(15), check: fdLimit),
    Behaviour("never-reader", stage: 3, "a client that never reads does not grow the server's memory by over 32 MiB",
              damaging: true, needs: .pid, timeout: .seconds(15), check: neverReader),
]

/// 2,000 connections, one after another, ending every way a connection can end: closed at once,
/// closed after an echo, reset after half a frame. Every path must close the server's fd exactly
/// once. The count is awaited, not read once: closing a connection takes the server a moment.
private func fdBaseline(_ context: BehaviourContext) throws {
    let pid = try context.requireServerPid()
    try context.echo(Array("warm-up".utf8), what: "a warm-up message")   // whatever a first client allocates
    let baseline = try settledOpenFileCount(of: pid, within: .after(.seconds(2), within: context.deadline))
    let payload = PseudoRandom.bytes(100, seed: 8)
    let frame = Frame(msgid: Frame.echoMsgid, payload: payload).encoded
    let halfFrame = Array(frame.prefix(frame.count / 2))
    let cycles = 2000
    for cycle in 0..<cycles {
        let connection = try context.connect()
        switch cycle % 3 {
        case 0:
            connection.close()
        case 1:
            try context.echo(payload, on: connection, what: "the frame of cycle \(cycle)")
            connection.close()
        default:
            try connection.send(halfFrame, what: "half a frame in cycle \(cycle)")
            try connection.reset()
        }
    }
    let settle = Deadline.after(.seconds(5), within: context.deadline)
    var count = try ProcessStats.openFileCount(of: pid)
    while count > baseline && !settle.hasPassed {
        sysSleep(.milliseconds(10))
        count = try ProcessStats.openFileCount(of: pid)
    }
    if count > baseline {
        throw CheckFailure("the server had \(baseline) fds open before \(cycles) connect/close cycles and \(count)"
            + " \(settle.span.readable) after them: \(count - baseline) not closed (EOF, RST and a frame cut short must all close)")
    }
    try context.echo(Array("after 2,000 cycles".utf8), what: "a new client's message")
}

/// The fd count once it stops changing (the same on 5 readings 20 ms apart), or the last reading
/// at `deadline`: a previous behaviour's connections may still be closing.
private func settledOpenFileCount(of pid: pid_t, within deadline: Deadline) throws -> Int {
    var count = try ProcessStats.openFileCount(of: pid)
    var same = 0
    while same < 5 && !deadline.hasPassed {
        sysSleep(.milliseconds(20))
        let next = try ProcessStats.openFileCount(of: pid)
        same = next == count ? same + 1 : 0
        count = next
    }
    return count
}

/// A server with 64 fds meets 200 connections. accept(2) then fails with EMFILE and leaves the
/// connection queued, so the listener stays readable: a level-triggered loop that just returns
/// wakes at once, forever (100% CPU), and one that gives up on the listener never serves again.
/// (Also a classic: accept(2) says EMFILE even when nothing is queued, as it takes the fd before
/// it looks, so a loop "shed until EAGAIN" whose spare-fd accept gets EAGAIN must stop there.)
/// The server must go on serving client A (connected before), not spin, and accept again once the
/// storm's connections close, while A is still connected.
private func fdLimit(_ context: BehaviourContext) throws {
    let pid = try context.requireServerPid()
    let clientA = try context.connect()
    try context.echo(Array("client A, before the storm".utf8), on: clientA, what: "client A's message before the storm")
    let storm = try ConnectionCrowd(count: 200, to: context.address)
    defer { storm.close() }
    // Let the storm land: each connect completes or fails. Not a check: a server that neither
    // accepts nor sheds leaves some waiting for good, and the next steps show what that costs.
    try storm.awaitConnects(until: .after(.seconds(2), within: context.deadline))

    // A measurement from here: the CPU time the server uses while the storm lasts, at least half a
    // second of it. 10 ms clock ticks make it coarse, hence the wide margin: a spinning loop uses
    // the whole window. It also explains a failed echo, if the server spins instead of serving.
    let cpuBefore = try ProcessStats.cpuTime(of: pid)
    let started = ContinuousClock.now
    func spinning() throws -> String? {
        let used = try ProcessStats.cpuTime(of: pid) - cpuBefore
        let elapsed = ContinuousClock.now - started
        guard used * 2 > elapsed else { return nil }
        return "the server used \(used.readable) of CPU in \(elapsed.readable) (at most half allowed): it spins"
            + " (EMFILE leaves the listener readable; see the spare-fd trick)"
    }
    do {
        try context.echo(Array("client A, during the storm".utf8), on: clientA, what: "client A's message during a storm of 200 connections")
    } catch let failure as CheckFailure {
        guard let spin = try? spinning() else { throw failure }
        throw CheckFailure("\(failure); meanwhile \(spin)")
    }
    sysSleep(max(.zero, .milliseconds(500) - (ContinuousClock.now - started)))
    if let spin = try spinning() {
        throw CheckFailure("at its fd limit, with 200 connections waiting, \(spin)")
    }
    storm.close()
    // The server learns of the storm's closes only as it reads them. A new connection that is ready
    // before they are read finds the server still at its limit, and is shed (the spare-fd trick
    // closes it: a reset, "ECONNRESET after 0 bytes"; seen in CI under AddressSanitizer, and made to
    // happen by stopping the server with SIGSTOP while the client connected). That is right then;
    // serving nobody for good is not. So a new client tries again every 100 ms, for up to 5 s.
    let recovery = Deadline.after(.seconds(5), within: context.deadline)
    var shed = 0
    while true {
        do {
            try context.echo(Array("a new client after the storm".utf8),
                             what: "a new client's message once the storm's 200 connections closed (client A still connected)")
            break
        } catch let failure as CheckFailure {
            if recovery.hasPassed { throw CheckFailure("\(failure) (and \(shed) tries before it, over 5 s)") }
            shed += 1
            sysSleep(.milliseconds(100))
        }
    }
    clientA.close()
}

/// A client sends frames and never reads: their echo fills its receive buffer, then the server's
/// send buffer, and then the server must stop reading it (backpressure). A server that reads on
/// and queues the echo holds all of it in memory; a client that sends forever would take it all.
/// We send until the socket has stayed full for 300 ms, or 64 MiB, and compare VmRSS.
private func neverReader(_ context: BehaviourContext) throws {
    let pid = try context.requireServerPid()
    let allowed = 32 << 20, most = 64 << 20
    let before = try ProcessStats.residentBytes(of: pid)
    let client = try context.connect()
    let chunk = (0..<16).flatMap { context.message(carrying: PseudoRandom.bytes(min(64 << 10, context.maxFrame), seed: 9 + UInt64($0))) }
    var sent = 0, offset = 0
    while sent < most && !context.deadline.hasPassed {
        let n = try client.sendAvailable(chunk, from: offset, what: "frames that will never be read back")
        sent += n
        offset = (offset + n) % chunk.count
        if n == 0, try !client.awaitWritable(within: .milliseconds(300)) { break }
    }
    let after = try ProcessStats.residentBytes(of: pid)
    if after - before > allowed {
        throw CheckFailure("the server's resident memory grew from \(mebibytes(before)) to \(mebibytes(after)) while a client"
            + " sent \(mebibytes(sent)) without reading (at most \(mebibytes(allowed)) of growth allowed):"
            + " stop reading a connection while its output is pending")
    }
    client.close()
    try context.echo(Array("after a client that never read".utf8), what: "a new client's message")
}
