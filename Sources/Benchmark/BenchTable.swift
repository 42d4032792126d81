// BenchTable.swift: `make bench`: the same loads against every server, interleaved over rounds, and
// one table of medians with each figure's ratio to the C reference.
import Conformance
import Glibc

/// One column group of the table: a connection count and a payload size, always ping-pong.
public struct BenchLoad: Sendable {
    public let connections: Int
    public let payloadSize: Int

    /// The table's loads: small frames at 1, 50 and 500 connections, and 16 KiB frames at 50 (the
    /// bulk case, as muduo's pingpong test measures it).
    public static let standard = [BenchLoad(connections: 1, payloadSize: 64), BenchLoad(connections: 50, payloadSize: 64),
                                  BenchLoad(connections: 500, payloadSize: 64), BenchLoad(connections: 50, payloadSize: 16384)]
}

public struct BenchSettings: Sendable {
    public var warmUp: Duration = .milliseconds(500)
    public var measure: Duration = .seconds(2)
    public var rounds = 5
    public var logDirectory = ".build/bench"
    /// Server on CPU 0 (every thread of it), generator on CPU 1 (with two CPUs or more). Unpinned, the scheduler may put
    /// both on one core for a while, and a 1-connection ping-pong then runs 3x faster (no cross-core
    /// wake-ups), so run-to-run figures would depend on luck.
    public var pin = true

    public init() {}
}

/// Runs the rounds and keeps every result: results[target][load][round].
public final class BenchRun {
    public let targets: [BenchTarget]
    public let loads: [BenchLoad]
    public let settings: BenchSettings
    public private(set) var results: [[[LoadResult]]]
    public private(set) var problems: [String] = []
    public private(set) var pinned = false

    public init(targets: [BenchTarget], loads: [BenchLoad] = BenchLoad.standard, settings: BenchSettings) {
        self.targets = targets
        self.loads = loads
        self.settings = settings
        results = Array(repeating: Array(repeating: [], count: loads.count), count: targets.count)
    }

    /// A B A B: each round runs every target once, so a slow minute of the machine hits all of them
    /// alike instead of one. Progress goes to `progress`, one line per load.
    public func run(progress: (String) -> Void) throws {
        pinned = settings.pin && sysOnlineCPUs() >= 2 && (try? sysPinToCPU(0, cpu: 1)) != nil
        for round in 1...settings.rounds {
            for (t, target) in targets.enumerated() {
                let server = try target.start(logDirectory: settings.logDirectory)
                defer { server.stop() }
                if pinned { pinThreads(of: server.pid, toCPU: 0) }
                for (l, load) in loads.enumerated() {
                    var plan = LoadPlan(address: server.address, connections: load.connections)
                    plan.payloadSize = load.payloadSize
                    plan.connectTimeout = .seconds(2)
                    plan.serverPID = server.pid
                    let generator = try LoadGenerator(plan: plan)
                    generator.connect()
                    // Again, now that the server serves: threads it started after its ready line (v0.7's
                    // I/O loops) are pinned too, whether or not they inherited the first pin.
                    if pinned && l == 0 { pinThreads(of: server.pid, toCPU: 0) }
                    let result = generator.run(warmUp: settings.warmUp, measure: settings.measure)
                    generator.close()
                    results[t][l].append(result)
                    progress("round \(round)/\(settings.rounds)  \(target.name)  \(plan.summary): \(result.line)")
                    for error in generator.firstErrors {
                        let problem = "\(target.name), \(plan.summary): \(error)"
                        if !problems.contains(problem) { problems.append(problem) }
                    }
                }
            }
        }
    }

    /// The median over rounds of one figure.
    func median(_ target: Int, _ load: Int, _ figure: (LoadResult) -> Double) -> Double {
        let values = results[target][load].map(figure).sorted()
        guard !values.isEmpty else { return 0 }
        return values.count % 2 == 1 ? values[values.count / 2] : (values[values.count / 2 - 1] + values[values.count / 2]) / 2
    }
}

extension BenchRun {
    /// The table as Markdown, with the machine and the commands above it and the notes below.
    public func markdown(commands: [String], toolchain: String) -> String {
        let reference = targets.firstIndex { $0.isReference }
        let oneConn = loads.firstIndex { $0.connections == 1 && $0.payloadSize == 64 }
        let fifty = loads.firstIndex { $0.connections == 50 && $0.payloadSize == 64 }
        let fiveHundred = loads.firstIndex { $0.connections == 500 && $0.payloadSize == 64 }
        let bulk = loads.firstIndex { $0.payloadSize == 16384 }
        var notes: [String] = []

        func qps(_ t: Int, _ l: Int?) -> String {
            guard let l else { return "-" }
            let value = median(t, l) { $0.requestsPerSecond }
            return grouped(Int(value.rounded())) + ratio(value, reference.map { median($0, l) { $0.requestsPerSecond } }, t) + flags(t, l) + spread(t, l) { $0.requestsPerSecond }
        }
        func mibs(_ t: Int, _ l: Int?) -> String {
            guard let l else { return "-" }
            let value = median(t, l) { $0.mebibytesPerSecond }
            return grouped(Int(value.rounded())) + ratio(value, reference.map { median($0, l) { $0.mebibytesPerSecond } }, t) + flags(t, l) + spread(t, l) { $0.mebibytesPerSecond }
        }
        // `~`: the rounds disagreed by more than a fifth of the median, so read the figure (and its
        // ratio) loosely; the per-round lines above the table show each value.
        func spread(_ t: Int, _ l: Int, _ figure: (LoadResult) -> Double) -> String {
            let values = results[t][l].map(figure)
            guard let low = values.min(), let high = values.max() else { return "" }
            return high - low > 0.2 * median(t, l, figure) ? " ~" : ""
        }
        func ratio(_ value: Double, _ base: Double?, _ t: Int) -> String {
            guard let base, base > 0, t != reference else { return "" }
            return " (\(decimal(value / base, places: 2))x)"
        }
        // Marks what a reader must know to read the cell: not every connection was answered, the
        // generator's core was full, or replies were wrong.
        func flags(_ t: Int, _ l: Int) -> String {
            let runs = results[t][l]
            var marks = ""
            if let worst = runs.min(by: { $0.answeringConnections < $1.answeringConnections }),
               worst.answeringConnections < loads[l].connections {
                marks += " [\(worst.answeringConnections) of \(loads[l].connections) conns answered]"
            }
            if runs.contains(where: { $0.errors > 0 }) { marks += " [errors]" }
            if runs.contains(where: { $0.generatorSaturated }) { marks += " *" }
            return marks
        }

        var lines = [
            "| server | QPS, 1 conn | QPS, 50 conns | QPS, 500 conns | p99 at 50 conns | 16 KiB at 50 conns | server CPU at 50 conns |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for (t, target) in targets.enumerated() {
            let p99 = fifty.map { decimal(median(t, $0) { Double($0.latency.percentile(0.99)) / 1000 }, places: 0) + " us" } ?? "-"
            let cpu = fifty.map { l in decimal(median(t, l) { $0.serverCPU?.seconds ?? 0 }, places: 2) + " s" } ?? "-"
            lines.append("| \(target.name) | \(qps(t, oneConn)) | \(qps(t, fifty)) | \(qps(t, fiveHundred)) | \(p99) | \(mibs(t, bulk)) | \(cpu) |")
        }
        if lines.contains(where: { $0.contains(" ~") }) {
            notes.append("`~`: the rounds of this figure differed by more than 20% of their median (this machine has noisy minutes: the same server's 16 KiB figure came out near 2,100 or near 1,400 MiB/s from one round to the next); the per-round lines printed by `make bench` show each value.")
        }
        let anySaturated = results.joined().joined().contains { $0.generatorSaturated }
        if anySaturated {
            notes.append("`*`: in at least one round the load generator's own thread was busy for 95% or more of the measured time, so the figure may be the generator's limit as much as the server's.")
        }
        notes += problems.map { "Seen: \($0)" }

        let measure = decimal(settings.measure.seconds, places: 1)
        var text = """
        # make bench: results

        - Machine: \(Machine.current().line). \(toolchain)
        - Placement: \(pinned ? "server pinned to CPU 0, load generator to CPU 1" : "not pinned (the scheduler places both)").
        - Load: ping-pong (one request in flight per connection), frames of msgid 1 with a 64-byte (or 16 KiB) payload, every reply checked byte for byte; \(decimal(settings.warmUp.seconds, places: 1)) s warm-up, then \(measure) s measured; \(settings.rounds) rounds, the servers interleaved in each; each figure is the median of the rounds. Ratios are to the C reference in the same run.
        - QPS: replies per second, all connections together. p99: 99% of round trips took at most this long. Server CPU: user + system seconds the server used in the \(measure) s window (\(measure) s = one core busy throughout).
        - Commands:

        """
        text += commands.map { "      \($0)" }.joined(separator: "\n") + "\n\n"
        text += lines.joined(separator: "\n") + "\n"
        if !notes.isEmpty { text += "\n" + notes.map { "- \($0)" }.joined(separator: "\n") + "\n" }
        return text
    }
}

/// Pins every thread of process `pid` (each entry of /proc/PID/task) to `cpu`: sched_setaffinity on a
/// pid pins only that one thread, and a threaded server's loops and workers would run anywhere.
func pinThreads(of pid: pid_t, toCPU cpu: Int) {
    guard let directory = opendir("/proc/\(pid)/task") else { return }
    defer { closedir(directory) }
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if let tid = pid_t(name) { try? sysPinToCPU(tid, cpu: cpu) }
    }
}
