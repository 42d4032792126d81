// IOThreadsTests.swift: --io-threads: connections handed out round-robin, each loop on its own thread,
// a stop that reaches every loop; and a churn across all loops that ThreadSanitizer watches.
@testable import Net_v0_7
import Conformance
import Glibc
import Testing

/// Thread ids, added from several threads. A pthread mutex (Lock), not Synchronization's Mutex:
/// ThreadSanitizer cannot see that one, and would report a race here (make sanitize).
final class ThreadsSeen: @unchecked Sendable {     // `ids` is touched with `lock` held only
    private let lock = Lock()
    private var ids: [UInt] = []

    func add(_ id: UInt) { lock.withLock { ids.append(id) } }
    var all: [UInt] { lock.withLock { ids } }
}

@Suite(.timeLimit(.minutes(5))) struct IOThreadsTests {
    @Test("connections spread evenly over the I/O loops")
    func spreadEvenly() throws {
        for loops in [2, 3] {
            let server = try SpawnedServer("--io-threads \(loops)")
            defer { server.stop() }
            var connections: [WireConnection] = []
            for _ in 0..<(4 * loops) { connections.append(try server.connect()) }
            try server.awaitStat("connections_open", 4 * loops, on: connections[0], what: "with \(4 * loops) connections")
            let stats = try server.stats(on: connections[0])
            #expect(stats["io_threads"] == loops)
            for loop in 0..<loops {
                #expect(stats["loop_\(loop)_connections"] == 4, "loop \(loop) of \(loops): \(stats.filter { $0.key.hasPrefix("loop_") })")
            }
        }
    }

    @Test("each I/O loop runs on a thread of its own, and stop() reaches every loop")
    func loopsOnTheirOwnThreads() throws {
        let server = try EchoServer(address: SocketAddress(host: "127.0.0.1", port: 0)!, ioThreads: 3)
        server.startIOThreads()
        #expect(server.siblings.count == 2 && server.siblingThreads.count == 2)
        // Each sibling's loop asserts its own thread in every method: ask each, from its own thread,
        // which thread it is on.
        let threads = ThreadsSeen()
        for sibling in server.siblings {
            #expect(sibling.loop.tasks.execute { loop in
                loop.assertInLoopThread()
                threads.add(UInt(pthread_self()))
            })
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while threads.all.count < 2 && ContinuousClock.now < deadline { server.loop.runOnce(timeout: 10) }
        let seen = threads.all
        #expect(Set(seen).count == 2 && !seen.contains(UInt(pthread_self())), "\(seen)")
        // stop() on loop 0 reaches the others: their threads end, so joining them returns.
        server.stop()
        for thread in server.siblingThreads { thread.join() }
        server.shared.workers?.stop()
    }

    @Test("1,000 connections churn across two loops with slow requests; the server exits 0 (66 under TSan if it raced)")
    func churnAcrossLoops() throws {
        let server = try SpawnedServer("--io-threads 2 --workers 2 --queue 8", within: .seconds(120))
        defer { server.stop() }
        let asking = try server.connect()
        for cycle in 0..<1000 {
            let connection = try server.connect()
            switch cycle % 4 {
            case 0:
                try connection.send(Frame.sleep(UInt32(cycle % 3), "c\(cycle)").encoded, what: "a sleep, then a reset")
                try connection.reset()
            case 1:
                try connection.send(Frame.sleep(0, "c\(cycle)").encoded + echoRequest("e").encoded, what: "a sleep and an echo")
                _ = try server.receive(on: connection, what: "the sleep's reply")
                _ = try server.receive(on: connection, what: "the echo's reply")
                connection.close()
            case 2:
                try connection.send(Frame(msgid: 4, payload: [0, 0, 0, 50] + Array("x".utf8)).encoded, what: "a compute, then a close")
                connection.close()
            default:
                connection.close()
            }
        }
        try server.awaitStat("connections_open", 1, on: asking, what: "after 1,000 connections came and went")
        asking.close()
        #expect(server.terminate() == .exited(0))
    }

    @Test("the hooks run for connections on every loop")
    func hooksOnEveryLoop() throws {
        let server = try EchoServer(address: SocketAddress(host: "127.0.0.1", port: 0)!, ioThreads: 2)
        let opened = ThreadsSeen(), closed = ThreadsSeen()
        server.onOpen = { _ in opened.add(UInt(pthread_self())) }
        server.onClose = { _ in closed.add(UInt(pthread_self())) }
        server.startIOThreads()
        let one = try Socket.connect(to: server.address), two = try Socket.connect(to: server.address)
        let deadline = ContinuousClock.now + .seconds(10)
        while opened.all.count < 2 && ContinuousClock.now < deadline { server.loop.runOnce(timeout: 10) }
        one.close()
        two.close()
        while closed.all.count < 2 && ContinuousClock.now < deadline { server.loop.runOnce(timeout: 10) }
        #expect(Set(opened.all).count == 2 && Set(closed.all) == Set(opened.all), "open on \(opened.all), closed on \(closed.all)")
        server.stop()
        for thread in server.siblingThreads { thread.join() }
    }

    @Test("a second signal exits at once, while another loop still has a connection to finish")
    func secondSignalWithTwoLoops() throws {
        let server = try SpawnedServer("--io-threads 2 --grace 30s")
        defer { server.stop() }
        let first = try server.connect(), second = try server.connect()   // loop 0, then loop 1
        try server.awaitStat("connections_open", 2, on: second, what: "with two connections")
        first.close()
        try server.awaitStat("connections_open", 1, on: second, what: "once loop 0's connection left")
        #expect(kill(server.process.pid, SIGINT) == 0)
        try second.expectCleanEnd(after: "the graceful stop")      // its lingering close waits for our FIN
        #expect(server.process.exitStatus(waitingUpTo: .milliseconds(300)) == nil, "exited before the other loop's connection ended")
        #expect(kill(server.process.pid, SIGINT) == 0)
        #expect(server.process.exitStatus(waitingUpTo: .seconds(5)) == .exited(1))
    }

    @Test("stats add up every loop's counters, and keep their place among the replies")
    func statsOfEveryLoop() throws {
        let server = try SpawnedServer("--io-threads 3")
        defer { server.stop() }
        let connections = try (0..<3).map { _ in try server.connect() }   // one on each loop
        for (index, connection) in connections.enumerated() {
            for round in 0..<(index + 1) {
                try server.context.echo(Array("loop \(index), \(round)".utf8), on: connection, what: "an echo")
            }
        }
        // Pipelined behind an echo and before another, on loop 1: the reply waits for loops 0 and 2.
        let asking = connections[1]
        let before = echoRequest("before"), after = echoRequest("after")
        try asking.send(before.encoded + Frame(msgid: 2, payload: []).encoded + after.encoded, what: "an echo, stats, an echo")
        #expect(try server.receive(on: asking, what: "the first echo") == before)
        let reply = try server.receive(on: asking, what: "the stats")
        #expect(try server.receive(on: asking, what: "the last echo") == after)
        var stats: [String: Int] = [:]
        for line in String(decoding: reply.payload, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: " ")
            stats[String(parts[0])] = Int(parts[1])
        }
        // 1 + 2 + 3 echoes before, then "before" and the stats request itself ("after" comes later):
        // every loop's, not loop 1's alone (which would say 3 echoes).
        #expect(reply.msgid == 2, "\(reply)")
        #expect(stats["requests_msgid_1"] == 7 && stats["requests_msgid_2"] == 1 && stats["frames_in"] == 8, "\(stats)")
        #expect(stats["connections_total"] == 3 && stats["connections_open"] == 3 && stats["connection_stats_requests"] == 1, "\(stats)")
        #expect(stats["loop_0_connections"] == 1 && stats["loop_1_connections"] == 1 && stats["loop_2_connections"] == 1, "\(stats)")
    }
}
