// EchoClient.swift: the blocking echo client: send a message, read until it has all come back.
// v0.1: raw bytes; the client counts bytes because the stream has no message boundaries.

/// The echo did not come back whole.
public struct EchoMismatch: Error, CustomStringConvertible {
    public let description: String
}

/// One connection to an echo server. Owns its socket.
public struct EchoClient: ~Copyable {
    private let socket: Socket

    public init(connectingTo address: SocketAddress) throws {
        socket = try Socket.connect(to: address)
    }

    /// Sends `message` and reads until as many bytes came back.
    /// This client writes everything before it reads; chapter 1's exercise 3 shows the size at which
    /// that deadlocks against an echo server.
    public func echo(_ message: [UInt8]) throws -> [UInt8] {
        try message.withUnsafeBytes { try socket.writeAll($0) }
        var reply = [UInt8](repeating: 0, count: message.count)
        try reply.withUnsafeMutableBytes { reply in
            try EchoClient.readAll(into: reply) { try socket.read(into: $0) }
        }
        return reply
    }

    /// Reads until `buffer` is full; throws if the server closes first.
    /// PITFALL: TCP is a byte stream, not a message queue: one write may come back in several reads,
    /// so one read(2) is not "the echo". `readSome` is read(2) in the program, a fake in the test.
    /// Guarded by: Tests/v0.N/EchoServerTests.swift "the echo is read until every byte is back".
    static func readAll(into buffer: UnsafeMutableRawBufferPointer,
                        _ readSome: (UnsafeMutableRawBufferPointer) throws -> Int) throws {
        var received = 0
        while received < buffer.count {
            let count = try readSome(UnsafeMutableRawBufferPointer(rebasing: buffer[received...]))
            if count == 0 {
                throw EchoMismatch(description: "server closed after \(received) of \(buffer.count) bytes")
            }
            received += count
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

    /// What `make stage 1` sends: a word, a sentence, and one message larger than a single read.
    public static let demoMessages = [
        "hello",
        "one client at a time: this server blocks in read() while you are connected",
        String(repeating: "0123456789abcdef", count: 6 * 1024),   // 96 KiB: comes back in several reads
    ]
}

/// A short printable form of a message: the text if it is short, else its start and its size.
func preview(_ bytes: [UInt8]) -> String {
    let text = String(decoding: bytes.prefix(40), as: UTF8.self)
    return bytes.count <= 40 ? "\"\(text)\"" : "\"\(text)...\" (\(bytes.count) bytes)"
}
