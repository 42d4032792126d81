// ConnectionCapacity.swift: `make bench-conns N`: how many idle connections a server holds, and what
// each costs it in resident memory.
import Conformance
import Glibc

/// One measurement: a fresh server, `target` connections opened to it and left idle, then one ping
/// (a 64-byte frame) on each to prove the server still serves it.
public struct CapacityResult: Sendable {
    public var target = 0
    public var established = 0
    public var answered = 0
    public var serverFDs = 0
    public var baselineRSS = 0
    public var heldRSS = 0
    public var sources = 1
    public var errors: [String] = []

    /// Resident bytes per answered connection above the one-connection baseline.
    public var bytesPerConnection: Int { answered > 0 ? (heldRSS - baselineRSS) / answered : 0 }

    public var line: String {
        "\(grouped(target)) wanted: \(grouped(established)) established, \(grouped(answered)) answered a ping; "
            + "server fds \(grouped(serverFDs)); server RSS \(mebibytes(baselineRSS)) -> \(mebibytes(heldRSS)): "
            + "\(grouped(bytesPerConnection)) B per connection"
            + (sources > 1 ? " (from \(sources) source addresses)" : "")
    }
}

public enum ConnectionCapacity {
    /// The local port range (net.ipv4.ip_local_port_range): how many connections one source address
    /// can open to one server port.
    static func ephemeralPorts() -> Int {
        guard let bytes = try? sysReadSmallFile("/proc/sys/net/ipv4/ip_local_port_range") else { return 28_232 }
        let numbers = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { Int($0) }
        return numbers.count == 2 ? numbers[1] - numbers[0] + 1 : 28_232
    }

    public static func measure(_ target: BenchTarget, connections wanted: Int, logDirectory: String) throws -> CapacityResult {
        var result = CapacityResult()
        result.target = wanted
        let server = try target.start(logDirectory: logDirectory)
        defer { server.stop() }

        // The baseline is taken with one connection served, so that what a server allocates once
        // (its read buffer, its first pool class) is not charged to the thousands that follow.
        let first = try LoadGenerator(plan: LoadPlan(address: server.address, connections: 1))
        first.connect()
        _ = first.run(requestsPerConnection: 10, timeout: .seconds(5))
        result.baselineRSS = try ProcessStats.residentBytes(of: server.pid)
        let baselineFDs = try ProcessStats.openFileCount(of: server.pid)

        // Spread over 127.0.0.x source addresses when one would run out of ephemeral ports.
        let perSource = ephemeralPorts() - 1000
        result.sources = max(1, (wanted + perSource - 1) / perSource)
        var plan = LoadPlan(address: server.address, connections: wanted)
        if result.sources > 1 {
            plan.sourceHosts = (0..<result.sources).map { in_addr(s_addr: (UInt32(0x7f00_0001) + UInt32($0)).bigEndian) }
        }
        plan.connectTimeout = .seconds(60)
        let crowd = try LoadGenerator(plan: plan)
        result.established = crowd.connect(batch: 128, stopAfterFailures: 1)

        // Accepting lags connecting (the kernel completes handshakes itself); wait until the server's
        // fd count stops moving before reading its memory.
        result.serverFDs = settledFileCount(of: server.pid, expecting: baselineFDs + result.established)
        result.heldRSS = try ProcessStats.residentBytes(of: server.pid)
        result.answered = crowd.run(requestsPerConnection: 1, timeout: .seconds(30)).answeringConnections
        result.errors = crowd.firstErrors
        crowd.close()
        first.close()
        return result
    }

    /// Polls /proc/PID/fd until it reaches `expecting` or has not changed for half a second (5 s at most).
    static func settledFileCount(of pid: pid_t, expecting: Int) -> Int {
        let deadline = Deadline.after(.seconds(5))
        var last = -1
        var stableSince = ContinuousClock.now
        while !deadline.hasPassed {
            let count = (try? ProcessStats.openFileCount(of: pid)) ?? 0
            if count >= expecting { return count }
            if count != last { last = count; stableSince = .now }
            if ContinuousClock.now - stableSince > .milliseconds(500) { return count }
            sysSleep(.milliseconds(50))
        }
        return last
    }
}
