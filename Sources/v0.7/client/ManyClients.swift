// ManyClients.swift: the v0.4 client's demo: many TCPClients on one EventLoop, one thread, every echo checked.
import Net_v0_7

/// Opens many connections from one thread. Each TCPClient queues its messages before it is even
/// connected (they go out first, in order, once it is), checks each echo as it arrives, and
/// disconnects when all have come back. Nothing blocks, so one loop serves every connection: the
/// blocking client of v0.3 would need a thread each.
final class ManyClients {
    static let messagesEach = 5

    private let loop: EventLoop
    private let codec: FrameCodec
    private var clients: [TCPClient] = []
    private var closed = 0
    /// Echoes that came back exactly, in order.
    private(set) var echoed = 0
    private(set) var errors: [String] = []

    init(maxFrame: Int) throws {
        loop = try EventLoop()
        codec = FrameCodec(maxFrame: maxFrame)
    }

    /// Runs until every connection has closed, or 10 s. Returns true if every echo came back exactly.
    func run(to address: SocketAddress, connections: Int) -> Bool {
        let frame = IOBuffer(capacity: 64)
        for index in 0..<connections {
            let client = TCPClient(loop: loop, address: address, backoff: .once)
            let expected = (0..<ManyClients.messagesEach).map { Array("connection \(index), message \($0)".utf8) }
            var next = 0, wrong = false
            client.onMessage = { [unowned self] client, bytes in
                var used = 0
                do {
                    while let header = try codec.nextFrame(in: bytes, at: used) {
                        let payload = Array(bytes[(used + FrameHeader.size)..<(used + header.frameSize)])
                        used += header.frameSize
                        if header.msgid == 1 && next < expected.count && payload == expected[next] {
                            echoed += 1
                        } else {
                            wrong = true
                            errors.append("connection \(index): reply \(next) is not the echo of message \(next)")
                        }
                        next += 1
                    }
                } catch {
                    wrong = true
                    errors.append("connection \(index): \(error)")
                }
                if next >= expected.count || wrong { client.disconnect() }
                return used
            }
            client.onError = { [unowned self] _, error in errors.append("connection \(index): \(error)") }
            client.onClosed = { [unowned self] _ in closed += 1 }
            for message in expected {                 // not connected yet: queued, sent once it is
                frame.clear()
                message.withUnsafeBytes { codec.encode(msgid: 1, payload: $0, into: frame) }
                frame.withReadableBytes { client.send($0) }
            }
            clients.append(client)
            client.connect()
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while closed < connections && ContinuousClock.now < deadline {
            loop.runOnce(timeout: 100)
        }
        if closed < connections { errors.append("\(connections - closed) connections still open after 10 s") }
        clients.forEach { $0.disconnect() }
        return errors.isEmpty && echoed == connections * ManyClients.messagesEach
    }
}
