// LoadClient.swift: the v0.4 client program's engine: many connections on one loop, every echo checked.
// v0.4: new: ping-pong or pipelined, by request count or by duration; QPS and latency percentiles.
import Glibc

/// What to run: `connections` TCPClients, each keeping `pipeline` requests in flight (1 = ping-pong), of
/// `payloadSize` bytes, until each has had `requests` answers or `duration` has passed.
public struct LoadPlan: Sendable {
    public var connections = 1
    public var pipeline = 1
    public var payloadSize = 64
    public var requests: Int? = 1000
    public var duration: Duration? = nil

    public init() {}
}

/// What came back: counts, wall time and every request's latency.
public struct LoadResult {
    public let answered: Int
    public let failures: [String]
    public let elapsed: Duration
    /// Round-trip times in microseconds, sorted.
    public let latencies: [UInt32]

    public var requestsPerSecond: Double {
        let (seconds, attoseconds) = elapsed.components
        let wall = Double(seconds) + Double(attoseconds) / 1e18
        return wall > 0 ? Double(answered) / wall : 0
    }

    /// The latency below which `fraction` of the requests finished (0.5: median, 0.99: p99).
    public func percentile(_ fraction: Double) -> UInt32 {
        guard !latencies.isEmpty else { return 0 }
        return latencies[min(latencies.count - 1, Int(Double(latencies.count) * fraction))]
    }
}

/// Drives a LoadPlan on its own EventLoop, in the calling thread, and returns when it is done.
public final class LoadClient {
    private let loop: EventLoop
    private let address: SocketAddress
    private let plan: LoadPlan
    private let codec: FrameCodec
    private var runners: [Runner] = []
    private var latencies: [UInt32] = []
    private var failures: [String] = []
    private var answered = 0
    private var finished = 0
    private var sendingUntil: ContinuousClock.Instant?

    public init(address: SocketAddress, plan: LoadPlan, maxFrame: Int = FrameCodec.defaultMaxFrame) throws {
        loop = try EventLoop()
        self.address = address
        self.plan = plan
        codec = FrameCodec(maxFrame: maxFrame)
    }

    public func run() -> LoadResult {
        let start = ContinuousClock.now
        if let duration = plan.duration { sendingUntil = start + duration }
        latencies.reserveCapacity(min(1 << 22, plan.connections * (plan.requests ?? 10_000)))
        for index in 0..<plan.connections {
            runners.append(Runner(index: index, owner: self))
        }
        runners.forEach { $0.client.connect() }
        // Bounded: the plan's duration (or requests), then at most 10 s for the last answers.
        let hardStop = start + (plan.duration ?? .seconds(60)) + .seconds(10)
        while finished < runners.count && ContinuousClock.now < hardStop {
            loop.runOnce(timeout: 100)
        }
        if finished < runners.count { failures.append("\(runners.count - finished) connections still busy at the time limit") }
        let elapsed = ContinuousClock.now - start
        runners.forEach { $0.client.disconnect() }
        return LoadResult(answered: answered, failures: failures, elapsed: elapsed, latencies: latencies.sorted())
    }

    /// One connection's part of the load: what it sent, what it expects next, when each went out.
    private final class Runner {
        let index: Int
        unowned let owner: LoadClient
        let client: TCPClient
        /// The payload of the request in flight with number `n`: its first bytes are `n` (big-endian),
        /// the rest a byte that names this connection. Rebuilt per request in one reusable array.
        var payload: [UInt8]
        let frame: IOBuffer
        var sent = 0
        var received = 0
        /// When request n went out, at index n % pipeline: replies come back in order.
        var sentAt: [ContinuousClock.Instant]
        var done = false

        init(index: Int, owner: LoadClient) {
            self.index = index
            self.owner = owner
            client = TCPClient(loop: owner.loop, address: owner.address, backoff: .once)
            payload = [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: owner.plan.payloadSize)
            frame = IOBuffer(capacity: owner.plan.payloadSize + FrameHeader.size)
            sentAt = Array(repeating: .now, count: owner.plan.pipeline)
            client.onConnected = { [unowned self] _ in
                for _ in 0..<self.owner.plan.pipeline { self.sendNext() }
            }
            client.onMessage = { [unowned self] _, input in self.handleReplies(input) }
            client.onError = { [unowned self] _, error in self.fail("\(error)") }
            client.onClosed = { [unowned self] _ in
                if !self.done { self.fail("connection closed after \(self.received) answers") }
            }
        }

        private var wantsMore: Bool {
            if let until = owner.sendingUntil { return ContinuousClock.now < until }
            return sent < owner.plan.requests ?? 0
        }

        func sendNext() {
            guard wantsMore else { return }
            stamp(sent)
            frame.clear()
            payload.withUnsafeBytes { owner.codec.encode(msgid: 1, payload: $0, into: frame) }
            sentAt[sent % sentAt.count] = .now
            sent += 1
            frame.withReadableBytes { client.send($0) }
        }

        func handleReplies(_ input: IOBuffer) {
            while !done, let header = try? owner.codec.nextFrame(in: input) {
                let now = ContinuousClock.now
                stamp(received)
                let matches = header.msgid == 1 && Int(header.length) == payload.count && input.withReadableBytes { reply in
                    payload.withUnsafeBytes { memcmp(reply.baseAddress! + FrameHeader.size, $0.baseAddress!, $0.count) == 0 }
                }
                input.consume(header.frameSize)
                guard matches else {
                    fail("reply \(received) is not the echo of request \(received) (msgid \(header.msgid), \(header.length) bytes)")
                    return
                }
                let (seconds, attoseconds) = (now - sentAt[received % sentAt.count]).components
                owner.latencies.append(UInt32(clamping: seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
                received += 1
                owner.answered += 1
                sendNext()
                if received == sent && !wantsMore { finish() }
            }
        }

        /// Writes request number `n` into the first bytes of the payload (its low-order bytes, if the
        /// payload is shorter than 8 bytes).
        private func stamp(_ n: Int) {
            let count = min(8, payload.count)
            withUnsafeBytes(of: UInt64(n).bigEndian) { number in
                for i in 0..<count { payload[i] = number[8 - count + i] }
            }
        }

        private func fail(_ reason: String) {
            guard !done else { return }
            owner.failures.append("connection \(index): \(reason)")
            finish()
            client.disconnect()
        }

        private func finish() {
            guard !done else { return }
            done = true
            owner.finished += 1
        }
    }
}

/// The lines the client program prints for a LoadResult.
public enum LoadReport {
    /// Prints the result; returns true if every request was answered with its exact echo. A server that
    /// refused every connection is one line, the first error, as for any other client.
    public static func print(_ result: LoadResult, plan: LoadPlan, address: SocketAddress) -> Bool {
        if result.answered == 0, let first = result.failures.first {
            fail("cannot connect to \(address): \(first)")
        }
        let expected = plan.requests.map { $0 * plan.connections }
        let ok = result.failures.isEmpty && (expected == nil || result.answered == expected)
        let seconds = Double(result.elapsed.components.seconds) + Double(result.elapsed.components.attoseconds) / 1e18
        printLine("answered \(result.answered)\(expected.map { " of \($0)" } ?? ""), every echo verified: \(ok ? "yes" : "NO"), in \(String(format3(seconds))) s")
        printLine("QPS \(Int(result.requestsPerSecond))   latency us: p50 \(result.percentile(0.5))  p99 \(result.percentile(0.99))  p999 \(result.percentile(0.999))")
        for failure in result.failures.prefix(5) { printLine("error: \(failure)") }
        if result.failures.count > 5 { printLine("error: ... and \(result.failures.count - 5) more") }
        return ok
    }

    private static func format3(_ value: Double) -> String {
        let thousandths = Int((value * 1000).rounded())
        let fraction = String(thousandths % 1000)
        return "\(thousandths / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
