// main.swift: v0.7-server, event loops on threads serving frames: msgid 1 echo, 2 stats, 3 sleep, 4 compute.
// Flags, listen, ready line, serve until SIGINT or SIGTERM.
import Net_v0_7

// First, before any thread exists: SIGINT and SIGTERM blocked, so that only the signalfd sees them.
SignalWatcher.blockStopSignals()
let options = ServerOptions.parseOrExit()
ignoreSIGPIPE()

let server: EchoServer
do {
    server = try EchoServer(address: options.address, maxFrame: options.maxFrame, edgeTriggered: options.edgeTriggered,
                            maxConnections: options.maxConnections,
                            timeouts: Timeouts(idle: options.idleTimeout, frame: options.frameTimeout, write: options.writeTimeout),
                            ioThreads: options.ioThreads, workers: options.workers, queue: options.queue)
    server.loop.outputHighWater = options.highWater
    server.loop.outputLowWater = options.lowWater
    try server.stopOnSignals(grace: options.grace)
} catch {
    fail("cannot listen on \(options.address): \(error)")
}
// The ready line: tests and `make stage` wait for it, then read the port from it.
printLine("listening on \(server.address)")
log("\(options.ioThreads) I/O \(options.ioThreads == 1 ? "thread" : "threads"), \(options.workers) workers, epoll \(options.edgeTriggered ? "edge" : "level")-triggered"
    + (options.maxConnections > 0 ? ", at most \(options.maxConnections) connections" : ""))
server.run()
