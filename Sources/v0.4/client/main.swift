// main.swift: v0.4-client: a load generator on the event loop (--connections ...), or, given messages,
// the blocking conversation of v0.3. --demo runs a small load.
import Glibc
import Net_v0_4

let options = ClientOptions.parseOrExit()
ignoreSIGPIPE()

if options.demo || options.load != nil {
    var plan = options.load ?? LoadPlan()
    if options.demo {
        plan.connections = 20
        plan.pipeline = 4
        plan.payloadSize = 256
        plan.requests = 500
    }
    let what = plan.duration.map { "for \($0)" } ?? "\(plan.requests ?? 0) requests each"
    printLine("\(plan.connections) connections to \(options.address), pipeline \(plan.pipeline), \(plan.payloadSize)-byte payloads, \(what)")
    let result: LoadResult
    do {
        result = try LoadClient(address: options.address, plan: plan, maxFrame: options.maxFrame).run()
    } catch {
        fail("cannot start the event loop: \(error)")
    }
    exit(LoadReport.print(result, plan: plan, address: options.address) ? 0 : 1)
}

let allCorrect: Bool
do {
    let client = try EchoClient(connectingTo: options.address, maxFrame: options.maxFrame)
    printLine("connected to \(options.address)")
    if !options.messages.isEmpty {
        allCorrect = client.converse(options.messages)
    } else {
        // No messages given: each line from stdin, sent as soon as it is typed (or piped).
        allCorrect = client.converse(sequence(state: ()) { _ in readLine() })
    }
} catch {
    fail("cannot connect to \(options.address): \(error)")
}
exit(allCorrect ? 0 : 1)
