// LoadPlan.swift: what one load is (connections, pipeline depth, frame size) and what it measured.
import Conformance
import Glibc

/// One load against one server: `connections` connections, each keeping `pipeline` requests in
/// flight (1 = ping-pong: send, wait for the echo, send again), every request a frame of msgid 1
/// with `payloadSize` bytes. The generator sends valid frames and expects the same bytes back, so it
/// loads a frame echo server (v0.2 on) and a raw-byte echo server (v0.1, the C reference) alike.
public struct LoadPlan: Sendable {
    public var host: in_addr
    public var port: UInt16
    public var connections: Int
    public var pipeline: Int = 1
    public var payloadSize: Int = 64
    /// How long connecting may take, all connections together, before the rest count as failed.
    public var connectTimeout: Duration = .seconds(3)
    /// Local addresses to connect from, round-robin (127.0.0.2, ...). Empty: let the kernel pick.
    /// One source address has only the ephemeral port range's ports (about 28,000) per server.
    public var sourceHosts: [in_addr] = []
    /// With a pid, the result carries the CPU time that process used while the load was measured.
    public var serverPID: pid_t? = nil

    public init(host: in_addr, port: UInt16, connections: Int) {
        self.host = host
        self.port = port
        self.connections = connections
    }

    /// For a server the bench started: its ready line's address (always a dotted IPv4 address).
    public init(address: ServerAddress, connections: Int) {
        self.init(host: sysParseIPv4(address.host) ?? in_addr(s_addr: UInt32(0x7f00_0001).bigEndian), port: address.port, connections: connections)
    }

    public var frameSize: Int { 8 + payloadSize }

    /// `64 B x 50 conns, ping-pong`
    public var summary: String {
        "\(payloadSize) B x \(connections) conn\(connections == 1 ? "" : "s"), " + (pipeline == 1 ? "ping-pong" : "pipeline \(pipeline)")
    }
}

/// What one measured stretch of a load saw. Bytes count replies (header and payload), as muduo's
/// pingpong test counts bytes read.
public struct LoadResult: Sendable {
    public var elapsed: Duration = .zero
    public var replies: UInt64 = 0
    public var replyBytes: UInt64 = 0
    public var latency = LatencyHistogram()
    /// Connections that were established when the stretch began.
    public var connections = 0
    /// Connections that got at least one reply during the stretch: a blocking server serves one.
    public var answeringConnections = 0
    /// Replies that differed from the request, and connections the server closed or reset.
    public var wrongReplies = 0
    public var closedByServer = 0
    /// CPU time (user + system) of the server (if its pid was given) and of the generator's thread.
    public var serverCPU: Duration? = nil
    public var generatorCPU: Duration = .zero

    public init() {}

    var seconds: Double { Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18 }
    public var requestsPerSecond: Double { seconds > 0 ? Double(replies) / seconds : 0 }
    public var mebibytesPerSecond: Double { seconds > 0 ? Double(replyBytes) / seconds / 1_048_576 : 0 }
    public var errors: Int { wrongReplies + closedByServer }

    /// True when the generator's own thread was busy for nearly the whole stretch: the figure is
    /// then (also) the generator's limit, not only the server's.
    public var generatorSaturated: Bool { generatorCPU.seconds >= 0.95 * seconds }

    /// One line: `164,638 req/s, 10.0 MiB/s, p50 281 us, p99 575 us, p999 901 us, errors 0, answered 50/50 conns, server CPU 2.9 s, generator CPU 2.8 s`
    public var line: String {
        var parts = [
            "\(grouped(Int(requestsPerSecond.rounded()))) req/s",
            "\(decimal(mebibytesPerSecond, places: 1)) MiB/s",
            "p50 \(microseconds(latency.percentile(0.50))) us",
            "p99 \(microseconds(latency.percentile(0.99))) us",
            "p999 \(microseconds(latency.percentile(0.999))) us",
            "errors \(errors)" + (errors > 0 ? " (\(wrongReplies) wrong replies, \(closedByServer) closed by the server)" : ""),
            "answered \(answeringConnections)/\(connections) conns",
        ]
        if let serverCPU { parts.append("server CPU \(decimal(serverCPU.seconds, places: 2)) s") }
        parts.append("generator CPU \(decimal(generatorCPU.seconds, places: 2)) s" + (generatorSaturated ? " (saturated)" : ""))
        return parts.joined(separator: ", ")
    }
}

extension Duration {
    package var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// `164,638`
package func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var out = ""
    for (i, digit) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(digit)
    }
    return value < 0 ? "-" + out : out
}

/// `3.14` for (3.14159, 2), without Foundation's formatters.
package func decimal(_ value: Double, places: Int) -> String {
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    let scaled = Int((value * scale).rounded())
    let whole = scaled / Int(scale)
    guard places > 0 else { return String(whole) }
    let fraction = String(abs(scaled % Int(scale)))
    return (scaled < 0 && whole == 0 ? "-" : "") + "\(whole)." + String(repeating: "0", count: places - fraction.count) + fraction
}

/// Nanoseconds shown as whole microseconds.
package func microseconds(_ nanoseconds: UInt64) -> String { grouped(Int((nanoseconds + 500) / 1000)) }
