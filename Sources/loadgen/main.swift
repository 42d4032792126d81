// main.swift: `loadgen`, the workbook's load generator on the command line: one load against a
// running server, every reply checked. `make bench` drives the same code (the Benchmark library).
// Exit status: 0 if the load ran without a wrong reply or a dropped connection, 1 if not, 2 for a bad flag.
import Benchmark
import Conformance
import Glibc

let usage = "usage: loadgen --port P [--host 127.0.0.1] [--connections 50] [--pipeline 1] [--size 64] [--duration 2 | --requests N] [--warmup 0.5] [--pid SERVER_PID]"

func fail(_ message: String, status: Int32) -> Never { exitWithMessage("loadgen", message, status: status) }

if CommandLine.arguments.contains("--help") { print(usage); exit(0) }

let plan: LoadPlan
let duration: Duration, warmUp: Duration
let requests: Int?
do {
    let flags = try Flags(Array(CommandLine.arguments.dropFirst()),
                          valued: ["host", "port", "connections", "pipeline", "size", "duration", "requests", "warmup", "pid"])
    guard flags.positionals.isEmpty else { throw UsageError("unexpected argument \(flags.positionals[0])") }
    guard flags.string("port") != nil else { throw UsageError("--port is required") }
    let hostName = flags.string("host") ?? "127.0.0.1"
    guard let address = ServerAddress("\(hostName):\(try flags.int("port", default: 0, range: 1...65535))") else {
        throw UsageError("--host wants a dotted IPv4 address, not \(hostName)")
    }
    var p = LoadPlan(address: address, connections: try flags.int("connections", default: 50, range: 1...60_000))
    p.pipeline = try flags.int("pipeline", default: 1, range: 1...1024)
    p.payloadSize = try flags.int("size", default: 64, range: 0...(1 << 20))
    if let pid = flags.string("pid") {
        guard let value = Int32(pid), value > 0 else { throw UsageError("--pid wants a process id, not \(pid)") }
        p.serverPID = value
    }
    if flags.string("duration") != nil && flags.string("requests") != nil { throw UsageError("--duration and --requests exclude each other") }
    duration = try flags.seconds("duration", default: .seconds(2), range: 0.1...600)
    warmUp = try flags.seconds("warmup", default: .milliseconds(500), range: 0...60)
    requests = flags.string("requests") == nil ? nil : try flags.int("requests", default: 0, range: 1...100_000_000)
    plan = p
} catch {
    fail("\(error) (\(usage))", status: 2)
}

do {
    try sysRaiseFileLimitToHard()   // thousands of connections need more fds than the usual soft limit, 1,024
    let generator = try LoadGenerator(plan: plan)
    let established = generator.connect()
    guard established > 0 else { fail("no connection to \(plan.port): \(generator.firstErrors.joined(separator: "; "))", status: 1) }
    print("loadgen: \(plan.summary), \(established) connected")
    let result = requests.map { generator.run(requestsPerConnection: $0, timeout: .seconds(600)) }
        ?? generator.run(warmUp: warmUp, measure: duration)
    generator.close()
    print("loadgen: \(result.line)")
    for error in generator.firstErrors { print("loadgen: seen: \(error)") }
    exit(result.errors == 0 && established == plan.connections ? 0 : 1)
} catch {
    fail("\(error)", status: 1)
}
