// main.swift: v0.2-server, a blocking echo server of frames. Flags, listen, ready line, serve forever.
import Net_v0_3

let options = ServerOptions.parseOrExit()
ignoreSIGPIPE()

let server: EchoServer
do {
    server = try EchoServer(address: options.address, maxFrame: options.maxFrame)
} catch {
    fail("cannot listen on \(options.address): \(error)")
}
// The ready line: tests and `make stage` wait for it, then read the port from it.
printLine("listening on \(server.address)")
server.run()
