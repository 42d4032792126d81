// ThreadsDemo.swift: the v0.7 client's part of `make stage 7`: a slow request that delays its own
// connection's replies and nobody else's, a compute, and where the connections landed.
import Net_v0_7

/// Shows v0.7 from the client's side (make stage 7 starts the server with --io-threads 2 --workers 2):
/// one connection sends a 1 s sleep and an echo together; another connection's echoes come back
/// meanwhile; the first connection's replies come in request order. Returns the exit status.
struct ThreadsDemo {
    let address: SocketAddress
    let maxFrame: Int

    func run() -> CInt {
        do {
            let slow = try EchoClient(connectingTo: address, maxFrame: maxFrame)
            let other = try EchoClient(connectingTo: address, maxFrame: maxFrame)
            let started = ContinuousClock.now
            try slow.send(msgid: 3, bigEndian(1000) + Array("slept".utf8))
            try slow.send(msgid: 1, Array("after the sleep".utf8))
            printLine("connection 1: a 1 s sleep (msgid 3) and an echo, sent together")
            var right = true
            for round in 1...3 {
                let echoed = try other.echo(Array("meanwhile \(round)".utf8))
                right = right && echoed == Array("meanwhile \(round)".utf8)
                printLine("connection 2: echo \(round) answered after \(milliseconds(ContinuousClock.now - started))")
            }
            let first = try slow.receive()
            printLine("connection 1: msgid \(first.msgid) \"\(String(decoding: first.payload, as: UTF8.self))\" after \(milliseconds(ContinuousClock.now - started))")
            let second = try slow.receive()
            printLine("connection 1: msgid \(second.msgid) \"\(String(decoding: second.payload, as: UTF8.self))\" after \(milliseconds(ContinuousClock.now - started)) (request order: the echo waited for the sleep)")
            right = right && first.msgid == 3 && second.msgid == 1
            let hash = try slow.request(msgid: 4, bigEndian(1_000_000) + Array("workbook".utf8))
            printLine("connection 1: compute, 1,000,000 rounds of FNV-1a over \"workbook\" -> \(hash.payload.map { hex($0) }.joined())")
            right = right && hash.msgid == 4 && hash.payload.count == 8
            // (Asked on the busy connection: the other one has been idle for a second, which is the
            // idle timeout `make stage 7` sets.)
            let stats = String(decoding: try slow.request(msgid: 2, []).payload, as: UTF8.self)
            let wanted = ["io_threads", "loop_0_connections", "loop_1_connections", "workers", "worker_jobs_done"]
            for line in stats.split(separator: "\n") where wanted.contains(where: { line.hasPrefix($0 + " ") }) {
                printLine("    \(line)")
            }
            return right ? 0 : 1
        } catch {
            printLine("error: \(error)")
            return 1
        }
    }

    private func bigEndian(_ value: UInt32) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    private func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }

    private func milliseconds(_ duration: Duration) -> String {
        "\(duration / .milliseconds(1) < 1 ? 0 : Int(duration / .milliseconds(1))) ms"
    }
}
