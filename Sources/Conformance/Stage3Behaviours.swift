// Stage3Behaviours.swift: what v0.3 (the epoll event loop) promises: many clients at once, none of
// them able to hold up the others, whatever they do with their half of the connection.
// The rungs that also watch the server's fds, CPU and memory are in Stage3ResourceBehaviours.swift.

let stage3Behaviours: [Behaviour] = [
    Behaviour("concurrent-clients", stage: 3, "200 clients connected at once each get their own echo",
              timeout: .seconds(15), check: concurrentClients),
    Behaviour("slow-reader", stage: 3, "a client that reads its echo slowly does not hold up 20 others",
              timeout: .seconds(15), check: slowReader),
    Behaviour("half-close", stage: 3, "a client that sends 16 MiB then shuts down writing gets the whole echo, then EOF",
              timeout: .seconds(15), check: halfClose),
    Behaviour("reset-mid-frame", stage: 3, "clients that reset mid-frame or mid-echo do not disturb the next",
              damaging: true, check: resetMidFrame),
] + stage3ResourceBehaviours

/// 200 connections open at the same time, more than v0.2's listen backlog (128) and far more than
/// the one client a blocking server serves. All connect first, then all send, from one thread with
/// one poll (ConnectionCrowd), and none closes before every one has its echo. Each client's two
/// frames name it and differ in size, so an echo delivered to the wrong client is caught.
private func concurrentClients(_ context: BehaviourContext) throws {
    let clients = 200
    let messages = (1...clients).map { client in
        context.message(carrying: Array("client \(client) of \(clients), frame 1".utf8))
            + context.message(carrying: PseudoRandom.bytes(client * 10, seed: UInt64(1000 + client)))
    }
    let crowd = try ConnectionCrowd(count: clients, to: context.address)
    defer { crowd.close() }
    let echoes = try crowd.exchange(messages, deadline: context.deadline)
    for (index, echo) in echoes.enumerated() {
        if let difference = context.firstDifference(expected: messages[index], got: echo) {
            throw CheckFailure("client \(index + 1) of \(clients): its echo differs: \(difference)")
        }
    }
}

/// `bytes` (a multiple of 1 MiB) of pseudo-random payload as frames of at most 64 KiB (or
/// max-frame, if smaller): a stream of ordinary frames. Made of 1 MiB that repeats, because
/// generating 16 MiB byte by byte takes seconds in a debug build.
private func frames(carrying bytes: Int, seed: UInt64, _ context: BehaviourContext) -> [UInt8] {
    let payload = PseudoRandom.bytes(1 << 20, seed: seed)
    let size = min(64 << 10, context.maxFrame)
    let mebibyte = stride(from: 0, to: payload.count, by: size).flatMap { start in
        context.message(carrying: Array(payload[start..<min(start + size, payload.count)]))
    }
    var wire: [UInt8] = []
    wire.reserveCapacity(mebibyte.count * (bytes >> 20))
    for _ in 0..<(bytes >> 20) { wire += mebibyte }
    return wire
}

/// A slow client pushes frames until its socket stays full (the server has stopped reading it, or
/// is stuck), up to 16 MiB, and reads its echo one byte per other client. By then the server holds
/// echo bytes it cannot write: more than the kernel's buffers take (about 8 MiB here), which is
/// why 1 MiB would not do. A server that waits for that write (a blocking socket, or a loop
/// retrying EAGAIN) stops serving everyone; an event loop writes what fits, waits for EPOLLOUT and
/// serves the 20 others meanwhile. At the end the slow client takes the rest, exact and in order.
private func slowReader(_ context: BehaviourContext) throws {
    let wire = frames(carrying: 16 << 20, seed: 4, context)
    let slow = try context.connect()
    var sent = 0
    while sent < wire.count {
        let n = try slow.sendAvailable(wire, from: sent, what: "16 MiB of frames from the slow reader")
        sent += n
        if n == 0, try !slow.awaitWritable(within: .milliseconds(100)) { break }
    }
    var echoed: [UInt8] = []
    for client in 1...20 {
        try context.echo(Array("client \(client) of 20, beside a slow reader".utf8),
                         what: "client \(client) of 20 (a slow reader has \(sent - echoed.count) echo bytes to come)")
        echoed += try slow.receiveAvailable(upTo: 1, what: "one byte of the slow reader's echo")
    }
    echoed += try slow.exchange(sending: Array(wire[sent...]), receiving: wire.count - echoed.count,
                                what: "the rest of the slow reader's echo")
    if let difference = context.firstDifference(expected: wire, got: echoed) {
        throw CheckFailure("the slow reader's echo differs: \(difference)")
    }
}

/// 16 MiB of frames, then shutdown(SHUT_WR), reading only while sending is stuck: the server reads
/// end of stream while it still owes us much of the echo, more than the kernel's buffers hold
/// (about 8 MiB here; 4 MiB could all sit in them). A half-closed peer still reads; a server that
/// closes the moment it reads EOF drops that pending output (so does, in edge-triggered mode, one
/// that reads until EAGAIN before it writes). After the whole echo the server must close its side
/// too: we expect EOF, not silence.
private func halfClose(_ context: BehaviourContext) throws {
    let wire = frames(carrying: 16 << 20, seed: 5, context)
    let connection = try context.connect()
    let echo = try connection.sendAllThenFIN(wire, receiving: wire.count, what: "the echo of 16 MiB sent before FIN")
    if let difference = context.firstDifference(expected: wire, got: echo) {
        throw CheckFailure("the echo of 16 MiB sent before FIN differs: \(difference)")
    }
    try connection.expectEnd(after: "the whole echo to a half-closed client")
}

/// RST arrives where a server does not expect it: after half a frame (the next read fails with
/// ECONNRESET, or sees EPOLLERR/EPOLLHUP), and after a 256 KiB frame plus half of another whose
/// echo we never read (the server is mid-write: send fails with ECONNRESET or EPIPE, and SIGPIPE
/// unless ignored). Each must close only that connection, exactly once; the next client is served.
private func resetMidFrame(_ context: BehaviourContext) throws {
    let small = Frame(msgid: Frame.echoMsgid, payload: PseudoRandom.bytes(1000, seed: 6)).encoded
    let big = context.message(carrying: PseudoRandom.bytes(min(256 << 10, context.maxFrame), seed: 7))
    let cases: [(name: String, bytes: [UInt8])] = [
        ("half a frame", Array(small.prefix(small.count / 2))),
        ("a 256 KiB frame and half of another", big + small.prefix(small.count / 2)),
    ]
    for (name, bytes) in cases {
        let connection = try context.connect()
        _ = try connection.sendAvailable(bytes, what: name)   // whatever fits: the reset comes anyway
        try connection.reset()
    }
    try context.echo(Array("after two resets mid-frame".utf8), what: "a new client's message")
}
