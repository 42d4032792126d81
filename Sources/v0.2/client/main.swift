// main.swift: v0.2-client: sends each message as a frame (arguments, stdin lines, or --demo) and checks its echo.
import Glibc
import Net_v0_2

let options = ClientOptions.parseOrExit()
ignoreSIGPIPE()

var messages = options.demo ? EchoClient.demoMessages : options.messages
if messages.isEmpty {
    while let line = readLine() { messages.append(line) }
}

let allCorrect: Bool
do {
    let client = try EchoClient(connectingTo: options.address, maxFrame: options.maxFrame)
    printLine("connected to \(options.address)")
    allCorrect = client.converse(messages)
} catch {
    fail("cannot connect to \(options.address): \(error)")
}
exit(allCorrect ? 0 : 1)
