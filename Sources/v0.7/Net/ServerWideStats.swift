// ServerWideStats.swift: stats (msgid 2) with several I/O loops: every loop's counters, added up.
// v0.7: new.

/// The msgid of stats (the wire contract's).
let statsMsgid: UInt32 = 2

extension EchoServer {
    /// Stats asked on a server with several loops. Each loop counts its own traffic, on its own thread
    /// and without atomics (the echo path stays as it was); so the loop that got the request asks every
    /// other loop for its lines, through that loop's task queue, and answers once all have come back,
    /// adding them up. Meanwhile the reply keeps its place in the connection's order: it waits in the
    /// ReplyQueue like a worker's result. Returns whether the connection is still open.
    func answerStatsOfEveryLoop(_ connection: TCPConnection, _ payload: UnsafeRawBufferPointer) -> Bool {
        guard payload.isEmpty else {
            sendError(.badRequest, "stats takes no payload, got \(payload.count) bytes", on: connection)
            return connection.isOpen
        }
        let asked = StatsAsked.of(connection)
        asked.count += 1
        let replies = connection.replies ?? ReplyQueue()
        connection.replies = replies
        let ticket = replies.reserve()
        let id = loop.registrationID(of: connection.fd)
        let gathered = GatheredStats(own: statsLines(connectionStatsRequests: asked.count), waitingFor: otherServers.count)
        for other in otherServers {
            let asking = self
            let handed = other.loop.tasks.execute { _ in
                let lines = other.statsLines(connectionStatsRequests: 0)
                asking.loop.tasks.execute { _ in asking.addStats(lines, to: gathered, ticket: ticket, for: id) }
            }
            // That loop has ended (the server is stopping): answer without it.
            if !handed { addStats([], to: gathered, ticket: ticket, for: id) }
        }
        return true
    }

    /// One more loop's lines; with the last, the reply goes out in its place.
    private func addStats(_ lines: [(String, Int)], to gathered: GatheredStats, ticket: Int, for id: UInt64) {
        gathered.add(lines)
        guard gathered.isComplete else { return }
        deliver(.success(Array(ServerStats.text(gathered.total).utf8)), msgid: statsMsgid, ticket: ticket, to: id)
    }
}

/// The stats lines of every loop, as they come back, for one stats request. `@unchecked Sendable`: it
/// is read and written on the asking loop's thread only; the tasks that go to the other loops carry
/// it there and back without touching it.
final class GatheredStats: @unchecked Sendable {
    private(set) var total: [(String, Int)]
    private var waitingFor: Int

    init(own: [(String, Int)], waitingFor: Int) {
        total = own
        self.waitingFor = waitingFor
    }

    var isComplete: Bool { waitingFor == 0 }

    /// Adds another loop's counters to the asking loop's. Lines that are already the whole server's
    /// (connections open, fds, threads, workers), or the asking connection's own, are kept as the
    /// asking loop has them; the worst loop lag is the worst of all; everything else is a sum.
    func add(_ lines: [(String, Int)]) {
        waitingFor -= 1
        let byName = Dictionary(lines, uniquingKeysWith: { first, _ in first })
        for index in total.indices {
            let (name, value) = total[index]
            guard let other = byName[name], !GatheredStats.keptAsIs(name) else { continue }
            total[index].1 = name == "loop_lag_max_us" ? max(value, other) : value + other
        }
    }

    private static func keptAsIs(_ name: String) -> Bool {
        ["connections_open", "fds_open", "connection_stats_requests", "loop_lag_last_us", "io_threads", "workers"].contains(name)
            || name.hasPrefix("loop_") && name.hasSuffix("_connections") || name.hasPrefix("worker_")
    }
}
