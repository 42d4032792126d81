// SlowRequestsTests.swift: slow requests on the worker pool, against a spawned v0.7-server: results
// that come back for closed or reused connections, backpressure on replies waiting, the half-closed
// peer and the graceful stop.
@testable import Conformance
import Glibc
import Testing

@Suite(.timeLimit(.minutes(5))) struct SlowRequestsTests {
    @Test("a result for a closed connection is dropped, even when its fd is reused")
    func resultForReusedFD() throws {
        // One loop, so the next connection gets the lowest free fd: the one the closed client had.
        let server = try SpawnedServer("--workers 2")
        defer { server.stop() }
        let asking = try server.connect()
        let gone = try server.connect()
        // 2 s: time enough, under the sanitizers too, for the stats, the reset and the next connect.
        try gone.send(Frame.sleep(2000, "for the client that left").encoded, what: "a 2 s sleep")
        try server.awaitStat("worker_jobs_running", 1, on: asking, what: "once a worker took the sleep")
        // A reset: the server closes at once. (After a plain close, a half-close as far as the server
        // can tell, it would keep the connection until the reply is out: the peer may still read.)
        try gone.reset()
        try server.awaitStat("connections_open", 1, on: asking, what: "once the first client's connection closed")
        // The next client likely gets the same fd number, and has a sleep of its own at a worker when
        // the first one's result comes back (as ticket 0 of its own queue, were it looked up by fd).
        let next = try server.connect()
        try next.send(Frame.sleep(3000, "mine").encoded, what: "a 3 s sleep")   // ends after the 2 s one
        let reply = try server.receive(on: next, what: "the reply to the 3 s sleep")
        #expect(reply == Frame(msgid: 3, payload: Array("mine".utf8)), "got another client's reply: \(String(decoding: reply.payload, as: UTF8.self))")
        #expect(try server.stats(on: asking)["worker_results_dropped"] == 1)
    }

    @Test("a connection with too many replies waiting is not read until they drain")
    func repliesWaitingBounded() throws {
        let server = try SpawnedServer("--workers 1")
        defer { server.stop() }
        let asking = try server.connect()
        let client = try server.connect()
        // A 3 s sleep, then 40 requests for a msgid nobody routes: each answer (unknown-msgid) must wait
        // behind the sleep's. (3 s: time enough, under the sanitizers too, for two rounds of stats.)
        let requests = [Frame.sleep(3000, "first")] + (0..<40).map { Frame(msgid: 99, payload: [UInt8($0)]) }
        try client.send(requests.flatMap(\.encoded), what: "a sleep and 40 more requests")
        try server.awaitStat("worker_jobs_running", 1, on: asking, what: "while the worker sleeps")
        // While the sleep runs, only as many requests are handled as may wait (one of them the sleep).
        let handled = try server.stats(on: asking)["requests_unknown_msgid"]
        #expect(handled == 31, "\(handled ?? -1) of 40 requests handled while the first reply waited, at most 31 may be")
        #expect(try server.receive(on: client, what: "the sleep's reply") == Frame(msgid: 3, payload: Array("first".utf8)))
        for index in 0..<40 {
            let reply = try server.receive(on: client, what: "reply \(index + 2) of 41")
            #expect(reply.msgid == 0 && String(decoding: reply.payload, as: UTF8.self).hasPrefix("unknown-msgid 99"))
        }
    }

    @Test("a slow request whose connection closed before a worker took it is not run")
    func abandonedWorkSkipped() throws {
        let server = try SpawnedServer("--workers 1")
        defer { server.stop() }
        let asking = try server.connect()
        let busy = try server.connect()
        // 4 s: time enough, under the sanitizers too, for the second client to send, be queued and reset.
        try busy.send(Frame.sleep(4000, "keeps the worker").encoded, what: "a 4 s sleep")
        try server.awaitStat("worker_jobs_running", 1, on: asking, what: "while the worker sleeps")
        let leaving = try server.connect()
        try leaving.send(Frame.sleep(10, "nobody waits").encoded, what: "a sleep that waits for the worker")
        try server.awaitStat("worker_queue", 1, on: asking, what: "once the second sleep is queued")
        try leaving.reset()
        try server.awaitStat("worker_jobs_skipped", 1, on: asking, what: "once the worker got to the left client's sleep")
        #expect(try server.receive(on: busy, what: "the first sleep's reply").payload == Array("keeps the worker".utf8))
        #expect(try server.stats(on: asking)["worker_results_dropped"] == 0)
    }

    @Test("a half-closed peer gets the replies of its slow requests, then end of stream")
    func halfClosedPeerGetsSlowReplies() throws {
        for flags in ["--workers 2", "--workers 0"] {
            let server = try SpawnedServer(flags)
            defer { server.stop() }
            let client = try server.connect()
            try client.send(Frame.sleep(200, "slept").encoded + echoRequest("then").encoded, what: "a sleep and an echo")
            try client.shutdownWrite()
            #expect(try server.receive(on: client, what: "the sleep's reply") == Frame(msgid: 3, payload: Array("slept".utf8)), "\(flags)")
            #expect(try server.receive(on: client, what: "the echo's reply") == echoRequest("then"), "\(flags)")
            try client.expectCleanEnd(after: "the replies to a half-closed peer")
        }
    }

    @Test("SIGTERM waits for replies still with the workers, then end of stream and exit 0")
    func gracefulStopWaitsForWorkers() throws {
        let server = try SpawnedServer("--workers 1 --io-threads 2 --grace 5s")
        defer { server.stop() }
        let asking = try server.connect()
        let client = try server.connect()
        // 2 s: time enough, under the sanitizers too, for the stats to see the worker busy.
        try client.send(Frame.sleep(2000, "finished").encoded + echoRequest("and this").encoded, what: "a sleep and an echo")
        try server.awaitStat("worker_jobs_running", 1, on: asking, what: "while the worker sleeps")
        asking.close()
        kill(server.process.pid, SIGTERM)
        #expect(try server.receive(on: client, what: "the sleep's reply") == Frame(msgid: 3, payload: Array("finished".utf8)))
        #expect(try server.receive(on: client, what: "the echo's reply") == echoRequest("and this"))
        try client.expectCleanEnd(after: "the replies, at a graceful stop")
        #expect(server.process.exitStatus(waitingUpTo: .seconds(10)) == .exited(0))
    }

    @Test("a protocol error while a reply waits on a worker: that reply, then too-large, then end of stream")
    func protocolErrorAfterSlowRequest() throws {
        let server = try SpawnedServer("--workers 1 --max-frame 64")
        defer { server.stop() }
        let client = try server.connect()
        try client.send(Frame.sleep(300, "owed").encoded + Frame.header(msgid: 1, length: 1000), what: "a sleep, then a header over --max-frame")
        #expect(try server.receive(on: client, what: "the sleep's reply") == Frame(msgid: 3, payload: Array("owed".utf8)))
        let error = try server.receive(on: client, what: "the error frame")
        #expect(error.msgid == 0 && String(decoding: error.payload, as: UTF8.self).hasPrefix("too-large "))
        try client.expectCleanEnd(after: "the too-large error")
    }

    @Test("replies that come back out of order do not let more requests in past the bound")
    func boundHoldsWhileResultsArriveOutOfOrder() throws {
        let server = try SpawnedServer("--workers 2")
        defer { server.stop() }
        let asking = try server.connect()
        let client = try server.connect()
        // A 3 s sleep at the head, then 60 quick computes: a second worker finishes those behind it, out
        // of order, and each result that comes back must not let one more request in.
        let compute = Frame(msgid: 4, payload: [0, 0, 0, 1] + Array("x".utf8))
        try client.send(Frame.sleep(3000, "head").encoded + (0..<60).flatMap { _ in compute.encoded }, what: "a sleep and 60 computes")
        // Until the sleep's reply comes, look at how many computes were let in, every 50 ms or so.
        var most = 0, done = 0
        while !(try client.awaitReadable(within: .milliseconds(50))) {
            let stats = try server.stats(on: asking)
            most = max(most, stats["requests_msgid_4"] ?? 0)
            done = stats["worker_jobs_done"] ?? 0
        }
        #expect(most == 31 && done == 31, "\(most) computes let in (\(done) done) while the sleep held the head: 31 may wait behind it")
        #expect(try server.receive(on: client, what: "the sleep's reply") == Frame(msgid: 3, payload: Array("head".utf8)))
        for index in 0..<60 {
            #expect(try server.receive(on: client, what: "compute \(index + 1)'s reply").msgid == 4)
        }
    }

    @Test("a connection whose reply is at a worker is not idle")
    func notIdleWhileAReplyWaits() throws {
        let server = try SpawnedServer("--workers 1 --idle-timeout 1s")
        defer { server.stop() }
        let client = try server.connect()
        try client.send(Frame.sleep(2000, "worth the wait").encoded, what: "a 2 s sleep, past the 1 s idle timeout")
        #expect(try server.receive(on: client, what: "the sleep's reply") == Frame(msgid: 3, payload: Array("worth the wait".utf8)))
        // Idle from the reply on: closed about a second later.
        try client.expectEnd(after: "a second of nothing after the reply")
    }
}
