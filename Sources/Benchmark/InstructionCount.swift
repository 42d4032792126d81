// InstructionCount.swift: `make bench-instr N`: the server's user-space instructions per round trip,
// counted by valgrind's callgrind. Unlike QPS it does not move with the machine's mood: it is the
// figure to optimise against, and a change of one instruction per message shows.
import Conformance
import Glibc

public struct InstructionResult: Sendable {
    public var roundTrips: UInt64 = 0
    public var instructions: UInt64 = 0
    public var errors = 0
    /// The functions that cost the most, by their own instructions (not their callees'), mangled.
    public var topFunctions: [(name: String, instructions: UInt64)] = []
    /// The sum of every function's own instructions: the dump's `totals`, which can exceed `summary`
    /// (what `instructions` holds) by the cost of the function that ran when the counters were zeroed.
    public var attributedInstructions: UInt64 = 0
    public var instructionsPerRoundTrip: Double { roundTrips > 0 ? Double(instructions) / Double(roundTrips) : 0 }
}

public enum InstructionCount {
    /// The stage every later one is held against: the last one before the echo path gains machinery
    /// (routing, timers, threads), and the one held to 2.5x the C reference.
    public static let baselineStage = 4

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
        let warmUp = generator.run(requestsPerConnection: warmUpRequests, timeout: .seconds(30))
        guard warmUp.answeringConnections == connections, warmUp.errors == 0 else {
            throw CheckFailure("\(target.name) answered \(warmUp.answeringConnections) of \(connections) connections under valgrind"
                + " (a blocking server serves one at a time), so there is no round-trip figure to compare"
                + (generator.firstErrors.isEmpty ? "" : ": " + generator.firstErrors.joined(separator: "; ")))
        }
        try callgrindControl("--zero", pid: server.pid)
        let measured = generator.run(requestsPerConnection: requestsPerConnection, timeout: .seconds(300))
        try callgrindControl("--dump=measured", pid: server.pid)
        generator.close()

        var result = InstructionResult()
        result.roundTrips = measured.replies
        result.errors = measured.errors
        let dump = try lastDump(in: dumps)
        result.instructions = try summary(of: dump)
        let functions = selfCosts(of: dump)
        result.topFunctions = Array(functions.prefix(12))
        result.attributedInstructions = functions.reduce(0) { $0 + $1.instructions }
        return result
    }

    private static func callgrindControl(_ action: String, pid: pid_t) throws {
        let run = try runCommand("callgrind_control \(action) \(pid)", timeout: .seconds(60))
        guard run.status == .exited(0) else {
            throw CheckFailure("callgrind_control \(action) \(pid) failed: \(run.lines.suffix(3).joined(separator: " | "))")
        }
    }

    /// The dump that `callgrind_control --dump=measured` wrote.
    private static func lastDump(in directory: String) throws -> String {
        let files = try sysListDirectory(directory).filter { $0.hasPrefix("callgrind.out") }.sorted()
        for file in files.reversed() {
            let text = String(decoding: try sysReadSmallFile(directory + "/" + file, limit: 64 << 20), as: UTF8.self)
            if text.contains("Trigger: dump measured") { return text }
        }
        throw CheckFailure("no callgrind dump marked `measured` in \(directory)")
    }

    /// The `summary:` line: the instruction count (Ir) since the counters were zeroed.
    private static func summary(of dump: String) throws -> UInt64 {
        for line in dump.split(separator: "\n") where line.hasPrefix("summary:") {
            if let count = line.split(separator: " ").dropFirst().first.flatMap({ UInt64($0) }) { return count }
        }
        throw CheckFailure("the callgrind dump has no summary line")
    }

    /// Each function's own instructions, most first. In callgrind's format, `fn=(id) name` starts a
    /// function's cost lines (`line cost`); a `calls=` line says the cost line after it is a call's
    /// inclusive cost, which belongs to the callee, so it is skipped. Names are given once, with
    /// their id, and by id alone afterwards (`fn=(12)`, or `cfn=(12)` for a callee).
    static func selfCosts(of dump: String) -> [(name: String, instructions: UInt64)] {
        var names: [Substring: Substring] = [:]
        var costs: [Substring: UInt64] = [:]
        var current: Substring = "?"
        var skipNext = false
        for line in dump.split(separator: "\n") {
            if line.hasPrefix("fn=(") || line.hasPrefix("cfn=(") {
                let body = line.drop { $0 != "(" }
                let id = body.prefix { $0 != ")" }
                let rest = body.drop { $0 != ")" }.dropFirst().drop { $0 == " " }
                if !rest.isEmpty { names[id] = rest }
                if line.hasPrefix("fn=") { current = names[id] ?? id }
            } else if line.hasPrefix("calls=") {
                skipNext = true
            } else if let first = line.first, first.isNumber || first == "+" || first == "-" || first == "*" {
                let fields = line.split(separator: " ")
                guard fields.count >= 2, let cost = UInt64(fields[1]) else { continue }
                if skipNext { skipNext = false; continue }
                costs[current, default: 0] += cost
            }
        }
        return costs.map { (String($0.key), $0.value) }.sorted { $0.instructions > $1.instructions }
    }
}
