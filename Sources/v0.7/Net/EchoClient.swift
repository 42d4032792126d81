// EchoClient.swift: the blocking echo client: send a message, read until it has all come back.
// v0.1: raw bytes; the client counts bytes because the stream has no message boundaries.
// v0.2: each message is a frame (msgid 1); the reply is the next whole frame, checked msgid and payload.
// v0.3: still blocking (the non-blocking client is v0.4); Socket.read can say "would block" now.
// v0.5: request(msgid:_:): any msgid, the reply frame as it comes (an error frame too): --stats.
// v0.7: send and receive apart, to pipeline requests (the threads demo).

/// The echo did not come back whole.
public struct EchoMismatch: Error, CustomStringConvertible {
    public let description: String
}

/// One connection to an echo server. Owns its socket.
public struct EchoClient: ~Copyable {
    private let socket: Socket
    private let codec: FrameCodec
    /// Outgoing frames are encoded here, replies accumulate in `input` until one is whole.
    private let output = IOBuffer(capacity: 4096)
    private let input = IOBuffer(capacity: 4096)

    public init(connectingTo address: SocketAddress, maxFrame: Int = FrameCodec.defaultMaxFrame) throws {
        socket = try Socket.connect(to: address)
        codec = FrameCodec(maxFrame: maxFrame)
    }

    /// Sends `message` as one frame and returns the payload of the frame that comes back.
    /// PITFALL: TCP is a byte stream, not a message queue: one write may come back in several reads,
    /// so one read(2) is not "the echo". The frame header says how many bytes make the whole reply.
    /// Guarded by: Tests/v0.N/EchoServerTests.swift "a long message comes back whole through the blocking client".
    /// One frame out, one frame back: the server reads a whole frame before it writes, so a message up
    /// to --max-frame cannot deadlock the two of us (chapter 1, exercise 3, shows how raw bytes can).
    public func echo(_ message: [UInt8], msgid: UInt32 = 1) throws -> [UInt8] {
        let reply = try request(msgid: msgid, message)
        if reply.msgid == FrameHeader.errorMsgid {
            throw EchoMismatch(description: "server error: \(String(decoding: reply.payload, as: UTF8.self))")
        }
        guard reply.msgid == msgid else {
            throw EchoMismatch(description: "reply has msgid \(reply.msgid), expected \(msgid)")
        }
        return reply.payload
    }

    /// Sends one frame of `msgid` and returns the frame that answers it, whatever it is (msgid 0: an
    /// error frame, `unknown-msgid 42`).
    public func request(msgid: UInt32, _ payload: [UInt8]) throws -> (msgid: UInt32, payload: [UInt8]) {
        try send(msgid: msgid, payload)
        return try receive()
    }

    /// Sends one frame of `msgid`, without waiting for its reply.
    public func send(msgid: UInt32, _ payload: [UInt8]) throws {
        payload.withUnsafeBytes { codec.encode(msgid: msgid, payload: $0, into: output) }
        try output.withReadableBytes { try socket.writeAll($0) }
        output.clear()
    }

    /// Waits for the next whole frame and returns it.
    public func receive() throws -> (msgid: UInt32, payload: [UInt8]) {
        while true {
            if let header = try codec.nextFrame(in: input) {
                let payload = input.withReadableBytes { Array($0[FrameHeader.size..<header.frameSize]) }
                input.consume(header.frameSize)
                return (header.msgid, payload)
            }
            let count = try input.append(reserving: 1024) { space in
                guard let count = try socket.read(into: space) else {
                    preconditionFailure("a blocking socket never says would-block")
                }
                return count
            }
            if count == 0 {
                throw EchoMismatch(description: "server closed with \(input.readableCount) bytes of a reply")
            }
        }
    }

    /// Sends each message, checks its echo, prints a line per message and a summary.
    /// Returns true if every echo came back exactly. `messages` may be lazy (lines from stdin): each
    /// is sent as soon as it is there.
    public func converse(_ messages: some Sequence<String>) -> Bool {
        var correct = 0
        var total = 0
        for message in messages {
            total += 1
            let bytes = Array(message.utf8)
            do {
                let reply = try echo(bytes)
                if reply == bytes {
                    correct += 1
                    printLine("echo ok    \(preview(bytes))")
                } else {
                    printLine("echo WRONG sent \(preview(bytes)), got \(preview(reply))")
                }
            } catch {
                printLine("echo FAILED for \(preview(bytes)): \(error)")
                break
            }
        }
        printLine("\(correct) of \(total) echoes correct")
        return correct == total
    }

    /// What `make stage 2` sends: a word, an empty frame (raw bytes could not say "empty message"),
    /// a sentence, and one frame larger than a single read.
    public static let demoMessages = [
        "hello",
        "",
        "one frame, one message: the header says where it ends",
        String(repeating: "0123456789abcdef", count: 6 * 1024),   // 96 KiB: comes back in several reads
    ]
}

/// A short printable form of a message: the text if it is short, else its start and its size.
func preview(_ bytes: [UInt8]) -> String {
    let text = String(decoding: bytes.prefix(40), as: UTF8.self)
    return bytes.count <= 40 ? "\"\(text)\"" : "\"\(text)...\" (\(bytes.count) bytes)"
}
