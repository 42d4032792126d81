// main.swift: v0.5-server, an event-loop echo server of frames. Flags, listen, ready line, serve forever.
import Net_v0_5

let options = ServerOptions.parseOrExit()
ignoreSIGPIPE()

let server: EchoServer
do {
    server = try EchoServer(address: options.address, maxFrame: options.maxFrame, edgeTriggered: options.edgeTriggered)
} catch {
    fail("cannot listen on \(options.address): \(error)")
}
// The ready line: tests and `make stage` wait for it, then read the port from it.
printLine("listening on \(server.address)")
log("one thread, epoll \(options.edgeTriggered ? "edge" : "level")-triggered")
server.run()
