// main.swift: v0.3-client: sends each message as a frame (arguments, stdin lines, or --demo) and checks its echo.
import Glibc
import Net_v0_4

let options = ClientOptions.parseOrExit()
ignoreSIGPIPE()

let allCorrect: Bool
do {
    let client = try EchoClient(connectingTo: options.address, maxFrame: options.maxFrame)
    printLine("connected to \(options.address)")
    if options.demo {
        // A second connection talks while the first stays open: v0.2 would make it wait forever.
        let other = try EchoClient(connectingTo: options.address, maxFrame: options.maxFrame)
        printLine("opened a second connection; the first stays open and idle")
        allCorrect = other.converse(EchoClient.demoMessages) && client.converse(["the first connection, still served"])
    } else if !options.messages.isEmpty {
        allCorrect = client.converse(options.messages)
    } else {
        // No messages given: each line from stdin, sent as soon as it is typed (or piped).
        allCorrect = client.converse(sequence(state: ()) { _ in readLine() })
    }
} catch {
    fail("cannot connect to \(options.address): \(error)")
}
exit(allCorrect ? 0 : 1)
