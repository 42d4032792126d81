// main.swift: v0.7-client: many connections from one thread on an event loop (--demo, --connections N),
// every echo checked; --demo, the routing demo (make stage 5); --stats, the server's counters; given
// messages instead, the blocking conversation of v0.3. From v0.6 the demo goes on with the server's
// deadlines (TimeoutsDemo), and --pipeline N sends N frames and reads the replies until the server stops.
// From v0.7 the demo starts with the threads (ThreadsDemo): a slow request, and who waits for it.
import Glibc
import Net_v0_7

let options = ClientOptions.parseOrExit()
ignoreSIGPIPE()

if let connections = options.connections {
    printLine("\(connections) connections to \(options.address) from one thread, \(ManyClients.messagesEach) messages each")
    let demo: ManyClients
    do {
        demo = try ManyClients(maxFrame: options.maxFrame)
    } catch {
        fail("cannot start the event loop: \(error)")
    }
    let allCorrect = demo.run(to: options.address, connections: connections)
    if demo.echoed == 0, let first = demo.errors.first { fail("cannot connect to \(options.address): \(first)") }
    for error in demo.errors.prefix(5) { printLine("error: \(error)") }
    if demo.errors.count > 5 { printLine("error: ... and \(demo.errors.count - 5) more") }
    printLine("\(demo.echoed) of \(connections * ManyClients.messagesEach) echoes correct, on \(connections) connections")
    exit(allCorrect ? 0 : 1)
}

if let count = options.pipeline {
    exit(TimeoutsDemo(address: options.address, maxFrame: options.maxFrame).pipeline(count))
}

if options.demo || options.stats {
    let demo = RoutingDemo(address: options.address, maxFrame: options.maxFrame)
    if options.stats { exit(demo.printStats()) }
    // The threads and the deadlines first: the routing demo ends by filling the server up to its
    // connection limit.
    let threads = ThreadsDemo(address: options.address, maxFrame: options.maxFrame).run()
    guard threads == 0 else { exit(threads) }
    let timeouts = TimeoutsDemo(address: options.address, maxFrame: options.maxFrame).run()
    exit(timeouts == 0 ? demo.run() : timeouts)
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
