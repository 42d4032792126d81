// main.swift: `bench`, what `make bench`, `make bench-conns` and `make bench-instr` run.
//   bench table [N ...]   the load table for stages N... (default: all built) and the C reference
//   bench conns N         idle connections held by stage N (and the C reference), memory per connection
//   bench instr N         user-space instructions per round trip of stage N and the C reference (callgrind)
//   bench slow N          echoes beside one client of slow requests, stage N with --workers 0 and 2 (v0.7 on)
//   bench charts --out F  draws the charts of a results file again from its tables
// Exit status: 0 when the figures were measured, 1 when a server could not be measured, 2 for a bad command line.
import Benchmark
import Conformance
import Glibc

let usage = """
usage: bench table [N ...] [--seconds 2] [--rounds 5] [--out FILE] [--toolchain TEXT] [--server-flags "--io-threads 2"]
       bench conns N [--connections 10200] [--server-flags "--idle-timeout 60s"]
       bench instr N [--requests 200] [--out FILE] [--server-flags "--io-threads 2"]
       bench slow N [--seconds 2] [--rounds 3] [--out FILE] [--toolchain TEXT]
       bench charts --out FILE
"""

func fail(_ message: String, status: Int32) -> Never { exitWithMessage("bench", message, status: status) }

/// Writes a line with write(2), at once: progress must show while a long run goes on, and print's
/// stdout into a pipe (make, tee) is block-buffered.
func say(_ line: String) { sysWriteAll(1, Array((line + "\n").utf8)) }


let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--help") { print(usage); exit(0) }
guard let command = arguments.first, ["table", "conns", "instr", "slow", "charts"].contains(command) else {
    fail("say what to run: table, conns, instr, slow or charts (bench --help shows how)", status: 2)
}
let flags: Flags
let stages: [Int]
do {
    flags = try Flags(Array(arguments.dropFirst()), valued: ["seconds", "rounds", "out", "toolchain", "connections", "requests", "server-flags"])
    stages = try flags.positionals.map { word in
        guard let n = Int(word), n >= 1 else { throw UsageError("a stage is a number, not \(word)") }
        return n
    }
    if (command == "conns" || command == "instr" || command == "slow") && stages.count != 1 { throw UsageError("bench \(command) takes one stage number") }
    if command == "charts" && (!stages.isEmpty || flags.string("out") == nil) { throw UsageError("bench charts takes --out FILE and no stage") }
} catch {
    fail("\(error) (bench --help shows how)", status: 2)
}

let logDirectory = ".build/bench"
let machine = Machine.current()

do {
    // Every child inherits the raised limit: the servers get their hard limit too.
    try sysRaiseFileLimitToHard()
    switch command {
    case "charts":
        let out = flags.string("out")!
        try writeFile(out, ResultsFile.withCharts(try readFile(out)))
        say("bench: charts drawn again in \(out)")
    case "table":
        var settings = BenchSettings()
        settings.measure = try flags.seconds("seconds", default: .seconds(2), range: 0.2...60)
        settings.rounds = try flags.int("rounds", default: 5, range: 1...9)
        var chosen = stages
        if chosen.isEmpty {
            chosen = (1...99).filter { BenchTarget.builtStage($0) }
        }
        // Server flags (make bench N ARGS=...) go to the stages, not to the C reference; such a run is
        // printed, not written to the results file, whose rows are the stages as they start by default.
        let serverFlags = flags.string("server-flags") ?? ""
        let targets = try [BenchTarget.reference()] + chosen.map { try BenchTarget.stage($0).with(flags: serverFlags) }
        say("bench: \(machine.line)")
        say("bench: \(targets.map(\.name).joined(separator: ", ")); \(settings.rounds) rounds of \(BenchLoad.standard.count) loads each")
        let run = BenchRun(targets: targets, settings: settings)
        try run.run(progress: say)
        let commands = [CommandLine.arguments.map { $0.contains(" ") ? shellQuoted($0) : $0 }.joined(separator: " ")]
            + targets.map { $0.command(logDirectory: logDirectory).replacing("{port}", with: "0") }
        let table = run.markdown(commands: commands, toolchain: flags.string("toolchain") ?? "")
        say("")
        say(table)
        if let out = flags.string("out"), serverFlags.isEmpty {
            try writeFile(out, ResultsFile.replacingLoads(in: (try? readFile(out)) ?? "", with: table))
            say("bench: written to \(out)")
        }
    case "conns":
        let (soft, hard) = sysFileLimit()
        let wanted = try flags.int("connections", default: 10_200, range: 1...1_000_000)
        // The generator needs a few fds of its own (epoll, stdio, the /proc reads).
        let most = hard - 64
        say("bench: \(machine.line); fd limit soft \(soft), hard \(hard) (soft raised to hard for this run and its servers)")
        var stage = try BenchTarget.stage(stages[0])
        stage.flags = flags.string("server-flags") ?? ""
        if !stage.flags.isEmpty { say("bench: \(stage.name)-server started with \(stage.flags)") }
        for target in [stage, try BenchTarget.reference()] {
            for count in [min(wanted, most), most] where count > 0 {
                let result = try ConnectionCapacity.measure(target, connections: count, logDirectory: logDirectory)
                say("\(target.name): \(result.line)")
                for error in result.errors { say("  seen: \(error)") }
                if count == most { break }
            }
        }
    case "slow":
        guard stages[0] >= 7 else { throw UsageError("bench slow needs stage 7 or later: slow requests (msgid 4) and --workers came with v0.7") }
        var settings = BenchSettings()
        settings.measure = try flags.seconds("seconds", default: .seconds(2), range: 0.2...60)
        settings.rounds = try flags.int("rounds", default: 3, range: 1...9)
        let bench = SlowRequestBench(target: try BenchTarget.stage(stages[0]), settings: settings)
        say("bench: \(machine.line)")
        say("bench: v0.\(stages[0]) with \(bench.variants.joined(separator: " and with ")); \(settings.rounds) rounds")
        try bench.run(progress: say)
        let command = CommandLine.arguments.map { $0.contains(" ") ? shellQuoted($0) : $0 }.joined(separator: " ")
        let section = bench.markdown(command: command, toolchain: flags.string("toolchain") ?? "")
        say("")
        say(section)
        if let out = flags.string("out") {
            try writeFile(out, ResultsFile.replacingSlowRequest(in: (try? readFile(out)) ?? "", with: section))
            say("bench: written to \(out)")
        }
    default:   // instr
        let requests = try flags.int("requests", default: 200, range: 10...100_000)
        say("bench: \(machine.line); valgrind --tool=callgrind, 50 connections, 64 B ping-pong, 100 warm-up round trips each, then \(requests) counted")
        // Every stage after v0.4 is also held against v0.4: its new machinery may cost the echo path at
        // most 1.2 times v0.4's instructions (WORKBOOK.md, "Performance").
        let serverFlags = flags.string("server-flags") ?? ""
        var targets = [try BenchTarget.stage(stages[0]).with(flags: serverFlags)]
        if stages[0] > InstructionCount.baselineStage { targets.append(try BenchTarget.stage(InstructionCount.baselineStage)) }
        targets.append(try BenchTarget.reference())
        var counts: [String: Double] = [:]
        for target in targets {
            let result = try InstructionCount.measure(target, requestsPerConnection: requests, logDirectory: logDirectory)
            say("\(target.name): \(grouped(Int(result.roundTrips))) round trips, \(grouped(Int(result.instructions))) instructions: \(decimal(result.instructionsPerRoundTrip, places: 1)) per round trip" + (result.errors > 0 ? " (\(result.errors) errors)" : ""))
            counts[target.name] = result.instructionsPerRoundTrip
            // Where they go: each function's own instructions per round trip, names demangled, and how
            // much of the total the listed functions explain.
            let names = demangled(result.topFunctions.map(\.name))
            var listed: UInt64 = 0
            for (i, function) in result.topFunctions.enumerated() where result.roundTrips > 0 {
                let share = Double(function.instructions) / Double(result.roundTrips)
                if share >= 1 {
                    say("    \(decimal(share, places: 1).leftPadded(to: 7))  \(names[i].prefix(110))")
                    listed += function.instructions
                }
            }
            if result.attributedInstructions > 0 {
                say("    (these functions: \(decimal(100 * Double(listed) / Double(result.attributedInstructions), places: 1))% of the instructions)")
            }
        }
        let stage = targets[0].name
        if let ours = counts[stage], let c = counts[BenchTarget.referenceName], c > 0 {
            say("bench: \(stage) / C reference = \(decimal(ours / c, places: 2))x")
        }
        // A run with server flags is printed only: the file's row is the stage as it starts by default.
        if let out = flags.string("out"), serverFlags.isEmpty, let ours = counts[stage], let c = counts[BenchTarget.referenceName], c > 0 {
            try writeFile(out, ResultsFile.replacingInstructions(in: (try? readFile(out)) ?? "", server: stage, perRoundTrip: ours,
                                                                  reference: c, referenceName: BenchTarget.referenceName))
            say("bench: \(stage)'s row written to \(out)")
        }
        let baseline = "v0.\(InstructionCount.baselineStage)"
        if stage != baseline, let ours = counts[stage], let base = counts[baseline], base > 0 {
            say("bench: \(stage) / \(baseline) = \(decimal(ours / base, places: 2))x (the goal: at most 1.2x)")
        }
    }
} catch {
    fail("\(error)", status: 1)
}

func readFile(_ path: String) throws -> String {
    String(decoding: try sysReadSmallFile(path, limit: 4 << 20), as: UTF8.self)
}

func writeFile(_ path: String, _ text: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw CheckFailure("cannot write \(path): \(errnoName(errno))") }
    defer { close(fd) }
    sysWriteAll(fd, Array(text.utf8))
}

/// Swift's mangled symbol names as a reader knows them (`swift demangle --simplified`); the names
/// unchanged if the tool is not there.
func demangled(_ names: [String]) -> [String] {
    guard !names.isEmpty, let run = try? runCommand("swift demangle --simplified --compact " + names.map(shellQuoted).joined(separator: " ")),
          run.status == .exited(0), run.lines.count == names.count else { return names }
    // A C name comes back with a `$` in front (the tool tried it as a Swift symbol): drop it.
    return zip(names, run.lines).map { name, line in line == "$" + name ? name : line }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
