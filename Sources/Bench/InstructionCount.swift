// InstructionCount.swift: `make bench-instr N`: the server's user-space instructions per round trip,
// counted by valgrind's callgrind. Unlike QPS it does not move with the machine's mood: it is the
// figure to optimise against, and a change of one instruction per message shows.
import Conformance
import Glibc

public struct InstructionResult: Sendable {
    public var roundTrips: UInt64 = 0
    public var instructions: UInt64 = 0
    public var errors = 0
    public var instructionsPerRoundTrip: Double { roundTrips > 0 ? Double(instructions) / Double(roundTrips) : 0 }
}

public enum InstructionCount {
    /// Runs `target` under callgrind; connects `connections` clients and warms up (the server's
    /// one-time work: its buffer, its pool, the dynamic linker's lazy binding), zeroes the counters,
    /// runs `requestsPerConnection` ping-pong round trips on each, and dumps the counters.
    public static func measure(_ target: BenchTarget, connections: Int = 50, payloadSize: Int = 64,
                               warmUpRequests: Int = 100, requestsPerConnection: Int = 200,
                               logDirectory: String) throws -> InstructionResult {
        let dumps = logDirectory + "/callgrind-" + target.name.replacing(" ", with: "-")
        _ = mkdir(logDirectory, 0o755)
        _ = mkdir(dumps, 0o755)
        for file in try sysListDirectory(dumps) { _ = unlink(dumps + "/" + file) }   // an earlier run's dumps
        let prefix = "valgrind --tool=callgrind --callgrind-out-file=\(shellQuoted(dumps))/callgrind.out "
        let server = try target.start(logDirectory: logDirectory, prefix: prefix, readyTimeout: .seconds(60))
        defer { server.stop() }

        var plan = LoadPlan(address: server.address, connections: connections)
        plan.payloadSize = payloadSize
        plan.connectTimeout = .seconds(30)
        let generator = try LoadGenerator(plan: plan)
        guard generator.connect() == connections else {
            throw CheckFailure("only \(generator.establishedConnections) of \(connections) connections to \(target.name) under valgrind: \(generator.firstErrors.joined(separator: "; "))")
        }
        _ = generator.run(requestsPerConnection: warmUpRequests, timeout: .seconds(120))
        try callgrindControl("--zero", pid: server.pid)
        let measured = generator.run(requestsPerConnection: requestsPerConnection, timeout: .seconds(300))
        try callgrindControl("--dump=measured", pid: server.pid)
        generator.close()

        var result = InstructionResult()
        result.roundTrips = measured.replies
        result.errors = measured.errors
        result.instructions = try summaryOfLastDump(in: dumps)
        return result
    }

    private static func callgrindControl(_ action: String, pid: pid_t) throws {
        let run = try runCommand("callgrind_control \(action) \(pid)", timeout: .seconds(60))
        guard run.status == .exited(0) else {
            throw CheckFailure("callgrind_control \(action) \(pid) failed: \(run.lines.suffix(3).joined(separator: " | "))")
        }
    }

    /// The `summary:` line of the newest dump file: the instruction count (Ir) since the last zero.
    private static func summaryOfLastDump(in directory: String) throws -> UInt64 {
        let files = try sysListDirectory(directory).filter { $0.hasPrefix("callgrind.out") }.sorted()
        for file in files.reversed() {
            let text = String(decoding: try sysReadSmallFile(directory + "/" + file, limit: 64 << 20), as: UTF8.self)
            guard text.contains("measured") else { continue }
            for line in text.split(separator: "\n") where line.hasPrefix("summary:") || line.hasPrefix("totals:") {
                if let count = line.split(separator: " ").dropFirst().first.flatMap({ UInt64($0) }) { return count }
            }
        }
        throw CheckFailure("no callgrind dump marked `measured` in \(directory)")
    }
}
