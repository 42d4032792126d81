// RoutingDemo.swift: the v0.5 client's demo (make stage 5): one request of each kind, then connections
// until the server says busy; and --stats.
import Net_v0_7

/// Shows what v0.5 answers, one blocking request at a time: an echo, a msgid nobody routes, the
/// stats; then opens connections, each checked with an echo, until one is refused with `busy`
/// (the server's --max-connections; make stage 5 starts it with 3).
struct RoutingDemo {
    let address: SocketAddress
    let maxFrame: Int

    /// Returns the exit status: 0 if every answer was the one the wire contract promises.
    func run() -> CInt {
        do {
            let client = try EchoClient(connectingTo: address, maxFrame: maxFrame)
            printLine("connected to \(address)")
            var right = try show(client, msgid: 1, "hello", expect: { $0 == (1, "hello") })
            right = try show(client, msgid: 42, "anyone?", expect: { $0 == (0, "unknown-msgid 42") }) && right
            right = try show(client, msgid: 1, "still served", expect: { $0 == (1, "still served") }) && right
            let stats = try client.request(msgid: 2, [])
            printLine("msgid 2 (stats) ->")
            for line in String(decoding: stats.payload, as: UTF8.self).split(separator: "\n") { printLine("    \(line)") }
            right = stats.msgid == 2 && right
            return try refusedConnection() && right ? 0 : 1
        } catch {
            printLine("error: \(error)")
            return 1
        }
    }

    /// Prints the server's stats; returns the exit status.
    func printStats() -> CInt {
        do {
            let reply = try EchoClient(connectingTo: address, maxFrame: maxFrame).request(msgid: 2, [])
            guard reply.msgid == 2 else {
                printLine("error: \(String(decoding: reply.payload, as: UTF8.self))")
                return 1
            }
            printLine(String(decoding: reply.payload.dropLast(), as: UTF8.self))   // the last line's newline: printLine adds it
            return 0
        } catch {
            fail("cannot ask \(address) for its stats: \(error)")
        }
    }

    /// Sends `text` as one frame of `msgid`, prints what came back, returns whether `expect` likes it.
    private func show(_ client: borrowing EchoClient, msgid: UInt32, _ text: String,
                      expect: ((UInt32, String)) -> Bool) throws -> Bool {
        let reply = try client.request(msgid: msgid, Array(text.utf8))
        let answer = String(decoding: reply.payload, as: UTF8.self)
        printLine("msgid \(msgid) \"\(text)\" -> msgid \(reply.msgid) \"\(answer)\"")
        return expect((reply.msgid, answer))
    }

    /// Opens more connections, each checked with an echo and kept open (this call holds it while it
    /// opens the next, recursively: EchoClient is ~Copyable, so not in an array), until one is answered
    /// `busy`, or 20 were served. Returns whether one was refused.
    private func refusedConnection(_ index: Int = 2) throws -> Bool {
        guard index <= 21 else {
            printLine("no connection was refused (is the server's --max-connections set, and under 21?)")
            return false
        }
        let client = try EchoClient(connectingTo: address, maxFrame: maxFrame)
        let reply = try client.request(msgid: 1, Array("connection \(index)".utf8))
        let answer = String(decoding: reply.payload, as: UTF8.self)
        if reply.msgid == FrameHeader.errorMsgid {
            printLine("connection \(index) -> \"\(answer)\"")
            return answer.hasPrefix("busy ")
        }
        printLine("connection \(index) -> echoed")
        return try refusedConnection(index + 1)
    }
}
