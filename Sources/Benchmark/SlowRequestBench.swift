// SlowRequestBench.swift: `make bench-slow`: what one client that keeps a slow request going does to
// everybody else's echoes, with the slow work on the loop (--workers 0) and on the worker pool.
import Conformance
import Glibc
import Synchronization

/// v0.7's scenario: 50 connections ping-pong 64-byte echoes, as in `make bench`, while one more
/// connection sends compute requests (msgid 4, a million rounds of FNV-1a, some milliseconds of CPU
/// each) one after another. Measured: the echoes' p99 and QPS, and how many computes were answered.
/// Each server flag set runs `rounds` times, alternating (A B A B), like the table.
public final class SlowRequestBench {
    public static let computeRounds: UInt32 = 1_000_000
    public let target: BenchTarget
    public let variants: [String]
    public let settings: BenchSettings
    /// results[variant][round]: the echoes' figures and the computes answered meanwhile.
    public private(set) var results: [[(echoes: LoadResult, computes: Int)]]
    public private(set) var pinned = false

    public init(target: BenchTarget, variants: [String] = ["--workers 0", "--workers 2"], settings: BenchSettings) {
        self.target = target
        self.variants = variants
        self.settings = settings
        results = Array(repeating: [], count: variants.count)
    }

    public func run(progress: (String) -> Void) throws {
        pinned = settings.pin && sysOnlineCPUs() >= 2 && (try? sysPinToCPU(0, cpu: 1)) != nil
        for round in 1...settings.rounds {
            for (v, flags) in variants.enumerated() {
                var variant = target
                variant.flags = flags
                let server = try variant.start(logDirectory: settings.logDirectory)
                defer { server.stop() }
                var plan = LoadPlan(address: server.address, connections: 50)
                plan.connectTimeout = .seconds(2)
                plan.serverPID = server.pid
                let generator = try LoadGenerator(plan: plan)
                generator.connect()
                // Every thread of the server (its loops and its workers) on CPU 0; this process (the
                // echoes and the slow client) on CPU 1. Pinned after the connections: the server's
                // threads all exist by then.
                if pinned { pinThreads(of: server.pid, toCPU: 0) }
                let slow = SlowClient(address: server.address, rounds: SlowRequestBench.computeRounds)
                let echoes = generator.run(warmUp: settings.warmUp, measure: settings.measure)
                let computes = slow.stop()
                generator.close()
                results[v].append((echoes, computes))
                progress("round \(round)/\(settings.rounds)  \(target.name) \(flags)  \(plan.summary) beside one compute client: \(echoes.line); \(computes) computes answered")
            }
        }
    }

    func median(_ v: Int, _ figure: ((echoes: LoadResult, computes: Int)) -> Double) -> Double {
        let values = results[v].map(figure).sorted()
        guard !values.isEmpty else { return 0 }
        return values.count % 2 == 1 ? values[values.count / 2] : (values[values.count / 2 - 1] + values[values.count / 2]) / 2
    }

    /// The section of bench/results.md: the table and what it was measured with.
    public func markdown(command: String, toolchain: String) -> String {
        var lines = [
            ResultsFile.slowHeading,
            "",
            "- Machine: \(Machine.current().line). \(toolchain)",
            "- Load: 50 connections ping-pong 64-byte echoes for \(decimal(settings.measure.seconds, places: 1)) s (after \(decimal(settings.warmUp.seconds, places: 1)) s of warm-up), "
                + "while one more connection sends compute requests (\(grouped(Int(SlowRequestBench.computeRounds))) rounds of FNV-1a each) one after another. Medians of \(settings.rounds) rounds.",
            "- Cores: " + (pinned ? "every thread of the server (I/O loop and workers) on CPU 0; the load generator and the compute client on CPU 1."
                                  : "not pinned (fewer than 2 CPUs, or sched_setaffinity failed)."),
            "- Command: `\(command)`",
            "",
            "| server | echo p99 | echo p50 | echo QPS | computes answered |",
            "|---|---:|---:|---:|---:|",
        ]
        for (v, flags) in variants.enumerated() {
            let p99 = median(v) { Double($0.echoes.latency.percentile(0.99)) / 1000 }
            let p50 = median(v) { Double($0.echoes.latency.percentile(0.50)) / 1000 }
            let qps = median(v) { $0.echoes.requestsPerSecond }
            let computes = median(v) { Double($0.computes) }
            lines.append("| \(target.name) \(flags) | \(grouped(Int(p99.rounded()))) us | \(grouped(Int(p50.rounded()))) us | \(grouped(Int(qps.rounded()))) | \(grouped(Int(computes.rounded()))) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// One connection on a thread of its own, sending compute requests one after another until stopped.
/// `@unchecked Sendable`: `thread` is written in init and read in stop(), both on the creating thread;
/// the rest is Atomic or immutable.
final class SlowClient: @unchecked Sendable {
    private let address: ServerAddress
    private let rounds: UInt32
    private let stopping = Atomic<Bool>(false)
    private let answered = Atomic<Int>(0)
    private var thread = pthread_t()

    init(address: ServerAddress, rounds: UInt32) {
        self.address = address
        self.rounds = rounds
        let context = Unmanaged.passRetained(self).toOpaque()
        let started = pthread_create(&thread, nil, { context in
            Unmanaged<SlowClient>.fromOpaque(context!).takeRetainedValue().loop()
            return nil
        }, context)
        precondition(started == 0, "pthread_create failed")
    }

    /// Stops after the compute in flight and returns how many were answered.
    func stop() -> Int {
        stopping.store(true, ordering: .relaxed)
        pthread_join(thread, nil)
        return answered.load(ordering: .relaxed)
    }

    private func loop() {
        guard let connection = try? WireConnection(connectingTo: address, deadline: .after(.seconds(600))) else { return }
        let request = Frame(msgid: 4, payload: withUnsafeBytes(of: rounds.bigEndian) { Array($0) } + Array("slow".utf8)).encoded
        while !stopping.load(ordering: .relaxed) {
            guard (try? connection.send(request, what: "a compute")) != nil,
                  (try? connection.receive(exactly: Frame.headerSize + 8, what: "its reply")) != nil else { return }
            answered.add(1, ordering: .relaxed)
        }
        connection.close()
    }
}
