// Stage2Behaviours.swift: what v0.2 (framing) promises: a frame is a frame however the bytes arrive,
// and a bad frame costs only its own connection.

let stage2Behaviours: [Behaviour] = [
    Behaviour("frame-byte-by-byte", stage: 2, "a frame sent one byte at a time is echoed once, exactly", check: frameByteByByte),
    Behaviour("frames-in-one-write", stage: 2, "100 frames in one write come back as 100 frames, in order", check: framesInOneWrite),
    Behaviour("frame-zero-length", stage: 2, "a zero-length frame is echoed", check: frameZeroLength),
    Behaviour("frame-max-size", stage: 2, "a frame of exactly max-frame payload bytes is echoed", timeout: .seconds(10), check: frameMaxSize),
    Behaviour("frame-oversize", stage: 2, "an oversized header gets an error frame and a close; others are served",
              damaging: true, check: frameOversize),
    Behaviour("garbage-then-close", stage: 2, "garbage then close does not crash the server", damaging: true, check: garbageThenClose),
]

/// A header split across reads, one byte per read: the codec must wait for all 8 header bytes and
/// then for the payload. "Echoed once" is proved without sleeping: a second, different frame
/// follows, and the bytes right after the first echo must be that second frame.
private func frameByteByByte(_ context: BehaviourContext) throws {
    let first = Frame(msgid: Frame.echoMsgid, payload: Array("sent one byte at a time".utf8))
    let second = Frame(msgid: Frame.echoMsgid, payload: Array("then this, in one piece".utf8))
    let connection = try context.connect()
    try connection.sendOneByteAtATime(first.encoded, what: "the frame")
    try connection.send(second.encoded, what: "the second frame")
    let echo = try context.receiveFrame(on: connection, what: "the echo of the byte-by-byte frame")
    if let difference = context.firstDifference(expected: first.encoded, got: echo.encoded) {
        throw CheckFailure("the echo of the byte-by-byte frame differs: \(difference)")
    }
    let next = try context.receiveFrame(on: connection, what: "the echo of the second frame")
    if next == first { throw CheckFailure("the byte-by-byte frame came back twice") }
    if let difference = context.firstDifference(expected: second.encoded, got: next.encoded) {
        throw CheckFailure("expected the second frame's echo next, it differs: \(difference)")
    }
}

/// Many frames in one read: the codec must loop until the buffer holds no complete frame. Each
/// payload names its frame, so a lost, repeated or reordered frame is reported by number.
/// All use msgid 1, the echo msgid: from v0.5 on, other msgids mean other services.
private func framesInOneWrite(_ context: BehaviourContext) throws {
    let frames = (1...100).map { Frame(msgid: Frame.echoMsgid, payload: Array("frame \($0) of 100".utf8)) }
    let connection = try context.connect()
    try connection.send(frames.flatMap(\.encoded), what: "100 frames")
    for (index, frame) in frames.enumerated() {
        let echo = try context.receiveFrame(on: connection, what: "echo \(index + 1) of 100")
        if echo != frame {
            let got = String(decoding: echo.payload.prefix(40), as: UTF8.self)
            throw CheckFailure("echo \(index + 1) of 100: expected msgid 1 \"frame \(index + 1) of 100\", got msgid \(echo.msgid) \"\(got)\"")
        }
    }
}

/// A frame with no payload: a codec that treats "0 payload bytes" as "no frame yet" never answers.
private func frameZeroLength(_ context: BehaviourContext) throws {
    try context.echo([], what: "a zero-length frame")
}

/// The largest legal frame: an off-by-one in the max-frame check (`>=` for `>`) rejects it.
private func frameMaxSize(_ context: BehaviourContext) throws {
    try context.echo(PseudoRandom.bytes(context.maxFrame, seed: 2), what: "a \(context.maxFrame)-byte frame")
}

/// A header announcing max-frame + 1 bytes, and nothing after it. The server must answer from the
/// header alone, before allocating or reading a payload: an error frame (msgid 0, `too-large` and a
/// reason), then close this connection, and go on serving others.
private func frameOversize(_ context: BehaviourContext) throws {
    let connection = try context.connect()
    let length = UInt32(clamping: context.maxFrame + 1)
    try connection.send(Frame.header(msgid: Frame.echoMsgid, length: length), what: "a header announcing \(length) bytes")
    let header = try connection.receive(exactly: Frame.headerSize, what: "the error frame's header")
    guard let (msgid, reasonLength) = Frame.decodeHeader(header) else { throw CheckFailure("short header") }
    guard msgid == Frame.errorMsgid else {
        throw CheckFailure("expected an error frame (msgid 0), got a header with msgid \(msgid), length \(reasonLength)"
            + (header == Frame.header(msgid: Frame.echoMsgid, length: length) ? " (our own header, echoed)" : ""))
    }
    guard reasonLength > 0, reasonLength <= context.maxFrame else {
        throw CheckFailure("expected an error frame with a reason of 1...\(context.maxFrame) bytes, its header says \(reasonLength)")
    }
    let reason = try connection.receive(exactly: Int(reasonLength), what: "the error frame's \(reasonLength)-byte reason")
    guard let text = String(validating: reason, as: UTF8.self) else {
        throw CheckFailure("the error frame's reason is not valid UTF-8")
    }
    // The wire contract: `<code> <human words>`, and the code of an oversized frame is too-large.
    guard text.hasPrefix("too-large ") else {
        throw CheckFailure("the error frame should start with its code, \"too-large \", but says \"\(text.prefix(60))\"")
    }
    try connection.expectEnd(after: "the error frame")
    try context.echo(Array("after an oversized frame".utf8), what: "a new client's message")
}

/// Bytes that are not a valid conversation, each on its own connection, then a hang-up: a header
/// cut short, a payload cut short, random bytes (most likely an oversized length). A server must
/// close those connections and live on; a crash or a stuck server fails the last echo.
private func garbageThenClose(_ context: BehaviourContext) throws {
    let patterns: [(name: String, bytes: [UInt8])] = [
        ("3 bytes of a header", [0x00, 0x00, 0x00]),
        ("a header announcing 100 bytes, then 10", Frame.header(msgid: Frame.echoMsgid, length: 100) + Array(repeating: 0x41, count: 10)),
        ("64 pseudo-random bytes", PseudoRandom.bytes(64, seed: 3)),
    ]
    for pattern in patterns {
        let connection = try context.connect()
        try connection.send(pattern.bytes, what: pattern.name)
        connection.close()
    }
    try context.echo(Array("after the garbage".utf8), what: "a new client's message")
}
