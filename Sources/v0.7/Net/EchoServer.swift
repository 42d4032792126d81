// EchoServer.swift: the echo server: every frame a client sends comes back unchanged.
// v0.1: accept a client, read/write until it closes, then accept the next.
// v0.2: frames: read into an input IOBuffer, echo each whole frame via an output IOBuffer, answer a
//       protocol error with an error frame and close that client; buffers come from a BufferPool.
// v0.3: on an EventLoop: an Acceptor hands out connections, each a TCPConnection; all clients at once.
// v0.4: its connections report to it through ConnectionOwner.server, a TCPClient's through .client.
// v0.5: a Router picks each frame's handler (msgid 1 echo, 2 stats, else unknown-msgid); --max-connections
//       refuses the extra connection with `busy`; protocol errors end in a lingering close; on-open and
//       on-close hooks; stop().
// v0.6: idle, frame and write timeouts (one sweep on the loop's coarse clock); a graceful stop on
//       SIGINT or SIGTERM (a signalfd): no new connections, every frame received answered, a grace period.
// v0.7: --io-threads: one EchoServer per I/O loop, each loop on its own thread; the first accepts and
//       hands each connection to the next loop in turn (IOThreads.swift). --workers: msgid 3 (sleep)
//       and 4 (compute) run on a WorkerPool, their replies in request order (SlowRequests.swift).
import Glibc

/// Serves every client at once, on one loop's thread: the EventLoop waits for whichever socket is
/// ready, and nothing ever blocks (muduo's TcpServer role):
///
///     EventLoop ──► Acceptor.handleEvent ──► newConnection: a TCPConnection, registered for readable
///         │
///         └──────► TCPConnection.handleEvent ──► handleMessages: each whole frame to its Route
///                                                     (router), replies out through send()
///
/// v0.2's server made a second client wait for the first; this one does not.
/// Guarded by: the ladder's concurrent-clients and slow-reader (make check 3).
///
/// With --io-threads N (v0.7) there is one EchoServer per loop, each on its loop's thread: the first
/// also accepts, and hands connections to the others (IOThreads.swift).
///
/// `@unchecked Sendable`: an EchoServer's mutable state is touched on its own loop's thread only (the
/// loop's methods assert it). Other threads hold a reference to it to queue work for that thread
/// (`loop.tasks.execute`), and read only its `let`s (`loop`, `shared`, `codec`): a worker, to send a
/// result home; another loop's thread, starting, to copy loop 0's settings (which pthread_create
/// orders after loop 0 set them).
public final class EchoServer: @unchecked Sendable {
    public let loop: EventLoop
    public let address: SocketAddress
    let codec: FrameCodec
    private(set) var acceptor: Acceptor?
    /// msgid -> Route: 1 echo, 2 stats, 3 sleep and 4 compute from the start; `register` adds more
    /// before serving.
    var router = Router()
    /// At most this many connections are served at once (0: no limit but the fd limit).
    public let maxConnections: Int
    /// Connections admitted and not yet closed, on every loop (closing ones included: they still hold
    /// an fd and a slot): what --max-connections limits.
    public var connectionCount: Int { shared.admitted.load(ordering: .relaxed) }
    /// Every connection of this loop whose socket is open: the admitted ones, and the refused ones
    /// still in their lingering close. (Stats' `connections_open` adds up every loop's.)
    public private(set) var openCount = 0
    /// Which I/O loop this server serves: 0 accepts and hands connections out (IOThreads.swift).
    public let index: Int
    /// What the servers of all loops share: connection counts, the worker pool. Sendable.
    let shared: ServerShared
    /// Loop 0's: the servers of loops 1..<N and their threads (empty until `startIOThreads`), and
    /// which loop gets the next connection.
    var siblings: [EchoServer] = []
    var siblingThreads: [Thread] = []
    var nextLoop = 0
    /// Loops 1..<N: loop 0's server, which accepts (weak: it holds this one in `siblings`).
    private(set) weak var firstServer: EchoServer?
    /// Every loop's server but this one, once all have started: whom a stats request asks. Not
    /// retained: loop 0 keeps them all (`siblings`), and they it.
    var others: [Unretained<EchoServer>] = []
    var otherServers: [EchoServer] { others.map(\.object) }
    /// The routes `register` added, which the other loops' servers add too when they start.
    var registered: [(UInt32, Route)] = []
    var stats = ServerStats()
    /// The per-connection deadlines, checked by a sweep every `timeouts.tick` (nothing runs if all are off).
    public let timeouts: Timeouts
    /// True once a graceful stop has begun: when the last connection closes, `run()` returns.
    public private(set) var stopping = false
    /// Loop 0, stopping: the other loops that have not ended yet. Set once the stop has ended this loop.
    private var loopsStillStopping = 0
    private var stopEnded = false

    /// Called once for every accepted connection, before it is read (refused ones too, before their
    /// `busy`), and once when it closes, whatever closes it (stop() included; a server dropped without
    /// stop() lets its connections go without closing them one by one, and runs no hook). Set them
    /// before serving: the other loops' servers take them when they start, and call them on their own
    /// threads (v0.7), like the routes `register` adds.
    public var onOpen: ((TCPConnection) -> Void)?
    public var onClose: ((TCPConnection) -> Void)?

    /// The pool every connection's buffers come from (the loop's).
    public var pool: BufferPool { loop.pool }

    /// Listens on `address`. Throws if the port is busy (EADDRINUSE) or the address is not ours.
    /// `ioThreads` loops serve connections (this one, on the calling thread, and `ioThreads - 1` more,
    /// each on its own thread from `startIOThreads`); `workers` threads run the slow routes (0: they
    /// run on the connection's loop), with at most `queue` requests waiting for them.
    public init(address: SocketAddress, maxFrame: Int = FrameCodec.defaultMaxFrame, edgeTriggered: Bool = false,
                maxConnections: Int = 0, timeouts: Timeouts = .off, ioThreads: Int = 1, workers: Int = 0, queue: Int = 64) throws {
        loop = try EventLoop(edgeTriggered: edgeTriggered)
        self.timeouts = timeouts
        let listener = try Socket.listen(on: address)
        self.address = try listener.localAddress() ?? address
        codec = FrameCodec(maxFrame: maxFrame)
        self.maxConnections = maxConnections
        index = 0
        shared = ServerShared(loops: ioThreads, workers: workers, queue: queue)
        let acceptor = try Acceptor(listener: listener, server: self)
        try loop.register(acceptor, fd: acceptor.fd, interest: .readable)
        self.acceptor = acceptor
        registerBuiltInRoutes()
        startSweeping()
    }

    /// The server of I/O loop `index` (1...), made on that loop's own thread (IOThreads.swift): loop
    /// 0's settings, no listener.
    init(loop index: Int, of first: EchoServer) throws {
        loop = try EventLoop(edgeTriggered: first.loop.edgeTriggered)
        loop.outputHighWater = first.loop.outputHighWater
        loop.outputLowWater = first.loop.outputLowWater
        timeouts = first.timeouts
        address = first.address
        codec = first.codec
        maxConnections = first.maxConnections
        self.index = index
        shared = first.shared
        firstServer = first
        registerBuiltInRoutes()
        startSweeping()
    }

    private func registerBuiltInRoutes() {
        try! router.register(1, .echo)
        try! router.register(2, .handler { [unowned self] request, reply throws(RequestError) in try statsReply(request, reply) })
        try! router.register(3, .slow(sleepHandler))
        try! router.register(4, .slow(computeHandler))
    }

    /// Adds a route; a msgid registered twice is an error (see Router.register). Before serving: the
    /// other loops' servers add it when they start, and call its handler on their own threads.
    public func register(_ msgid: UInt32, _ route: Route) throws(RouterError) {
        try router.register(msgid, route)
        registered.append((msgid, route))
    }

    /// Serves clients until stopped: the other I/O loops start, this thread runs loop 0; then waits for
    /// the other loops to end, and exits. (Not for the workers: with every loop gone, what they are
    /// still computing has nowhere to go, and a sleep may have seconds left. exit ends them.)
    public func run() -> Never {
        startIOThreads()
        loop.run()
        for thread in siblingThreads { thread.join() }
        exit(0)
    }

    /// Stops serving: the listener closes, every connection closes now (each one's on-close hook runs),
    /// and `run()` returns after this wakeup. (`stopGracefully` answers what was received first.)
    public func stop() {
        loop.assertInLoopThread()
        if let acceptor {
            loop.unregister(fd: acceptor.fd)       // the loop lets it go after this wakeup; its deinit closes
            self.acceptor = nil
        }
        for case let connection as TCPConnection in loop.registeredHandlers { connection.handleClose() }
        for sibling in siblings { sibling.loop.tasks.execute { _ in sibling.stop() } }
        loop.stop()
    }

    /// Stops gracefully: the listener closes at once (new connections are refused), every connection
    /// answers what it has received, the frames the kernel holds for it now included, and ends with a
    /// lingering close; when the last one has closed, or `grace` has passed, `run()` returns. Called on
    /// the first SIGINT or SIGTERM (`stopOnSignals`). Loop 0 passes it on to the other loops, and ends
    /// last, once they all have: its signalfd must still hear a second signal meanwhile.
    public func stopGracefully(within grace: Duration) {
        loop.assertInLoopThread()
        guard !stopping else { return }
        stopping = true
        acceptor?.close()                           // from now on, a connect is refused
        acceptor = nil
        log("stopping: \(openCount) connections to finish within \(grace)" + (index > 0 ? " on I/O loop \(index)" : ""))
        loopsStillStopping = siblings.count
        for sibling in siblings { sibling.loop.tasks.execute { _ in sibling.stopGracefully(within: grace) } }
        loop.forEachHandler { ($0 as? TCPConnection)?.answerWhatArrivedAndClose(within: grace) }
        loop.runAfter(grace) { [unowned self] in
            guard openCount > 0 else { return }
            log("stopping: the grace period is over; closing the \(openCount) connections left")
            loop.forEachHandler { ($0 as? TCPConnection)?.handleClose() }
        }
        endStopIfDone()
    }

    /// A graceful stop ends this loop once its last connection has closed and (loop 0) every other
    /// loop has ended; another loop then tells loop 0 it has.
    private func endStopIfDone() {
        guard stopping, !stopEnded, openCount == 0, loopsStillStopping == 0 else { return }
        stopEnded = true
        loop.stop()
        if let first = firstServer {
            first.loop.tasks.execute { _ in
                first.loopsStillStopping -= 1
                first.endStopIfDone()
            }
        }
    }

    /// SIGINT and SIGTERM from now on: the first one stops gracefully within `grace`; a second one
    /// exits at once, with status 1. The signals must be blocked first (SignalWatcher.blockStopSignals).
    public func stopOnSignals(grace: Duration) throws {
        _ = try SignalWatcher(loop: loop) { [unowned self] signal in
            if stopping {
                log("second signal (\(signal)): exiting now")
                exit(1)
            }
            log("signal \(signal): stopping gracefully")
            stopGracefully(within: grace)
        }
    }

    /// The sweep of the timeouts: every tick, advance the loop's coarse clock and close each open
    /// connection whose deadline has passed. Timeouts close with no frame (the wire contract).
    private func startSweeping() {
        guard !timeouts.isOff else { return }
        let idle = timeouts.ticks(timeouts.idle), frame = timeouts.ticks(timeouts.frame), write = timeouts.ticks(timeouts.write)
        loop.runEvery(timeouts.tick) { [unowned self] in
            loop.tick &+= 1
            let now = loop.tick
            loop.forEachHandler { handler in
                guard let connection = handler as? TCPConnection, connection.isOpen,
                      let kind = connection.expiredDeadline(now: now, idle: idle, frame: frame, write: write) else { return }
                stats.timeouts[kind, default: 0] += 1
                log("client \(connection.peer) timed out: \(kind)")
                connection.handleClose()
            }
        }
    }

    /// A new client, from the Acceptor (loop 0): admitted or not, then handed to the next I/O loop in
    /// turn (IOThreads.swift), which serves it from then on.
    /// PITFALL: the limit is checked and the count raised here, in one step on the loop's thread, and the
    /// count falls in connectionClosed only, which runs once per connection: Lars checked the count in
    /// one place, raised it in another, and lowered it on each of two clean-up paths, so it drifted.
    /// (v0.7: the count is an Atomic that only this, the accepting loop, raises: the others only lower
    /// it, so it cannot pass the limit between the check and the raise. A connection that never opens,
    /// its hand-off or registration failed, gives its count back where that failed, instead.)
    /// Guarded by: the ladder's churned-connections (make check 5).
    @discardableResult
    func newConnection(_ socket: consuming Socket, peer: SocketAddress?) -> TCPConnection? {
        let admitted = maxConnections == 0 || shared.admitted.load(ordering: .relaxed) < maxConnections
        if admitted { shared.admitted.add(1, ordering: .relaxed) }
        return handOff(socket, peer: peer, admitted: admitted)
    }

    /// A connection this loop serves from now on: its TCPConnection, registered. Not admitted, it gets
    /// `busy` and a lingering close instead of service.
    func adopt(_ socket: consuming Socket, peer: SocketAddress?, admitted: Bool) -> TCPConnection? {
        let name = peer.map(String.init(describing:)) ?? "?"
        let connection = TCPConnection(socket: socket, peer: name, loop: loop, owner: .server(Unretained(self)))
        do {
            try loop.register(connection, fd: connection.fd, interest: .readable)
        } catch {
            // Never registered, so never opened: its socket closes when `connection` goes away.
            log("client \(name) dropped: \(error)")
            if admitted { shared.admitted.subtract(1, ordering: .relaxed) }
            return nil
        }
        stats.connectionsTotal += 1
        openCount += 1
        shared.open[index].value.store(openCount, ordering: .relaxed)
        connection.admitted = admitted
        onOpen?(connection)
        // PITFALL: refused is not closed at once (Lars's close(connfd)): a client that is already writing
        // its first requests would get a reset instead of the `busy` that says why. The refusal is a
        // frame and a lingering close, like any error that ends a connection.
        // Guarded by: the ladder's busy-while-writing (make check 5).
        guard connection.admitted else {
            stats.connectionsRefused += 1
            log("client \(name) refused: \(connectionCount) connections served, the limit (--max-connections)")
            sendError(.busy, "the server serves at most \(maxConnections) connections at once (--max-connections)", on: connection)
            connection.lingeringClose()
            return connection
        }
        log("client \(name) connected" + (shared.open.count > 1 ? " (I/O loop \(index))" : ""))
        return connection
    }

    /// Answers the whole frames at the front of `bytes`, each through its Route, and returns how many
    /// bytes they take; a partial frame after them stays with the connection. Inlined into the
    /// connection's read path (TCPConnection.handleRead): called, it cost 36 of 157 instructions per
    /// round trip (make bench-instr 3).
    ///
    /// The loop here is the common case only: a run of echo frames, sent back with one send() straight
    /// from `bytes`. At the first frame that is not an echo, everything from there on is answered out
    /// of line, by `answerMixed`. (One loop for both cases kept more variables live in the echo path's
    /// registers: 145 instructions per round trip against 132, make bench-instr 5.)
    @inline(__always)
    func handleMessages(_ connection: TCPConnection, _ bytes: UnsafeRawBufferPointer) -> Int {
        // Replies wait on the worker pool (v0.7): every reply from here on waits behind them.
        if connection.replies != nil { return answerBehindWaitingReplies(connection, bytes) }
        var used = 0          // bytes of the echo frames so far
        do {
            while let header = try codec.nextFrame(in: bytes, at: used) {
                let kind = router.route(header.msgid)
                guard kind == .echo else { return answerMixed(connection, bytes, echoesUpTo: used, header, kind) }
                used += header.frameSize
            }
        } catch {
            refuse(connection, error, bytes, echoesFrom: 0, to: used)
            return bytes.count
        }
        sendEchoes(connection, bytes, from: 0, to: used)
        return used
    }

    /// The frames from `offset` on, the first of which (`header`, routed as `kind`) is not an echo:
    /// each answered in order, runs of echoes still sent in one piece. Returns how many bytes the whole
    /// frames of `bytes` take, or all of them if the connection ended.
    @inline(never)
    func answerMixed(_ connection: TCPConnection, _ bytes: UnsafeRawBufferPointer, echoesUpTo offset: Int,
                             _ header: FrameHeader, _ kind: Router.Kind) -> Int {
        var used = offset, echoStart = 0       // the run of echoes not sent yet: bytes[echoStart..<used]
        var header = header, kind = kind
        do {
            while true {
                if kind != .echo {
                    // PITFALL: a handler may close its own connection (or a send may fail and close it).
                    // The frames after it in this read are then not answered, nor even handed to their
                    // handlers: those would run for a connection whose on-close hook has already run.
                    // Guarded by: Tests/v0.N/ConnectionManagementTests.swift "a handler that closes its connection is the last one called".
                    guard answer(connection, bytes, echoesFrom: echoStart, frameAt: used, header) else { return bytes.count }
                    echoStart = used + header.frameSize
                }
                used += header.frameSize
                // PITFALL: as many replies wait as a connection may have: its next frames are not
                // handled until some drain, nor read (v0.7). Read on regardless, and a client that
                // pipelines slow requests fills our memory with their copies and replies.
                // Guarded by: Tests/v0.N/SlowRequestsTests.swift "a connection with too many replies waiting is not read until they drain".
                if connection.mustWaitForReplies {
                    connection.pauseReading()
                    break
                }
                guard let next = try codec.nextFrame(in: bytes, at: used) else { break }
                header = next
                kind = router.route(next.msgid)
            }
        } catch {
            refuse(connection, error, bytes, echoesFrom: echoStart, to: used)
            return bytes.count
        }
        sendEchoesInOrder(connection, bytes, from: echoStart, to: used)
        return used
    }

    /// Sends the run of echo frames bytes[start..<end] as they came: one send() for all of them.
    /// (Two offsets, not a Range and a slice, each of which checks its bounds once more.) The echo
    /// path's: nothing waits on the workers (handleMessages looked).
    @inline(__always)
    private func sendEchoes(_ connection: TCPConnection, _ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) {
        let count = end &- start           // end >= start: both are frame boundaries, in order
        guard count > 0 else { return }
        stats.echoBytes &+= count          // wrapping, not checked: see Router.route
        connection.send(UnsafeRawBufferPointer(start: bytes.baseAddress.unsafelyUnwrapped + start, count: count))
    }

    /// The same, behind the replies that wait on the workers if any do (v0.7): held in the connection's
    /// ReplyQueue until those before them are out. (The same check in the echo path's sendEchoes
    /// cost 4 instructions per round trip, 143.9 against 139.9, make bench-instr 7: it does without.)
    private func sendEchoesInOrder(_ connection: TCPConnection, _ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) {
        guard let replies = connection.replies else { return sendEchoes(connection, bytes, from: start, to: end) }
        guard end > start else { return }
        stats.echoBytes &+= end - start
        replies.append(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
    }

    /// One request that is not an echo, the frame at `offset`: first the echoes before it (replies leave
    /// in request order), then its handler's reply, or the error frame that takes its place. Returns
    /// whether the connection is still open.
    @inline(never)
    private func answer(_ connection: TCPConnection, _ bytes: UnsafeRawBufferPointer, echoesFrom echoStart: Int,
                        frameAt offset: Int, _ header: FrameHeader) -> Bool {
        // PITFALL: the echoes waiting in the run were asked for first, so they are sent first: this
        // reply after them, never before, or a pipelining client matches replies to the wrong requests.
        // Guarded by: the ladder's pipelined-mixed (make check 5).
        sendEchoesInOrder(connection, bytes, from: echoStart, to: offset)
        guard connection.isOpen else { return false }   // sending them failed
        let msgid = header.msgid
        let payload = UnsafeRawBufferPointer(rebasing: bytes[(offset + FrameHeader.size)..<(offset + header.frameSize)])
        stats.otherBytesIn += header.frameSize
        guard msgid != FrameHeader.errorMsgid else {
            sendError(.badRequest, "msgid 0 is the error frame: only the server sends it", on: connection)
            return connection.isOpen
        }
        switch router.kind(msgid) {
        case .handler where msgid == statsMsgid && !otherServers.isEmpty:
            return answerStatsOfEveryLoop(connection, payload)      // v0.7: every loop's counters, added up
        case .handler: break
        case .slow: return answerSlow(connection, msgid, payload)
        default:
            sendError(.unknownMsgid, "\(msgid)", on: connection)
            return connection.isOpen
        }
        let handle = router.handler(msgid)
        let reply = pool.take()
        defer { pool.recycle(reply) }
        reply.appendUInt32(msgid)
        reply.appendUInt32(0)                                 // the length, once the payload is known
        do {
            try handle(Request(msgid: msgid, payload: payload, connection: connection), reply)
        } catch {
            sendError(error.code, error.reason, on: connection)
            return connection.isOpen
        }
        guard connection.isOpen else { return false }   // the handler closed it: no reply to send
        reply.setUInt32(UInt32(reply.readableCount - FrameHeader.size), at: 4)
        send(reply, on: connection)
        return connection.isOpen
    }

    /// An error frame: `code`, a space, `reason` (the wire contract: a program reads the code).
    func sendError(_ code: ErrorCode, _ reason: String, on connection: TCPConnection) {
        stats.countError(code)
        let reply = pool.take()
        defer { pool.recycle(reply) }
        codec.encodeError(code: code, reason, into: reply)
        send(reply, on: connection)
    }

    func send(_ frame: IOBuffer, on connection: TCPConnection) {
        stats.otherFramesOut += 1
        stats.otherBytesOut += frame.readableCount
        frame.withReadableBytes { if let replies = connection.replies { replies.append($0) } else { connection.send($0) } }
    }

    /// The client broke the protocol: answer the frames before the bad header, say why in an error
    /// frame (msgid 0), then a lingering close (see there: a plain close here would reset a client that
    /// is still writing). Nobody else is affected.
    @inline(never)
    func refuse(_ connection: TCPConnection, _ error: FrameError, _ bytes: UnsafeRawBufferPointer,
                        echoesFrom echoStart: Int, to end: Int) {
        sendEchoesInOrder(connection, bytes, from: echoStart, to: end)
        sendError(error.code, "\(error)", on: connection)
        log("client \(connection.peer) closing: protocol error: \(error)")
        connection.lingeringCloseWhenAnswered()      // after the replies still with the workers (v0.7)
    }

    /// msgid 2: the counters, as `name value` lines; the request must be empty. Also the per-connection
    /// context at work: the connection's own count of stats requests lives in its `context`.
    private func statsReply(_ request: Request, _ reply: IOBuffer) throws(RequestError) {
        guard request.payload.isEmpty else { throw RequestError(.badRequest, "stats takes no payload, got \(request.payload.count) bytes") }
        let asked = StatsAsked.of(request.connection)
        asked.count += 1
        var utf8 = ServerStats.text(statsLines(connectionStatsRequests: asked.count))
        utf8.withUTF8 { reply.append(UnsafeRawBufferPointer($0)) }
    }

    /// This loop's counters as stats lines (and the server-wide ones: connections open, threads).
    func statsLines(connectionStatsRequests: Int) -> [(String, Int)] {
        let timers = loop.timers
        return stats.report(router: router, connectionsOpen: shared.connectionsOpen, openFDs: sysOpenFDCount() ?? -1,
                                extra: [("connection_stats_requests", connectionStatsRequests),
                                        ("timers_active", timers.count), ("timers_fired", timers.fired),
                                        ("loop_lag_last_us", Int(timers.lastLag / .microseconds(1))),
                                        ("loop_lag_max_us", Int(timers.maxLag / .microseconds(1))),
                                        ("timeouts_idle", stats.timeouts[.idle, default: 0]),
                                        ("timeouts_frame", stats.timeouts[.frame, default: 0]),
                                        ("timeouts_write", stats.timeouts[.write, default: 0])] + threadStats())
    }

    func connectionFailed(_ connection: TCPConnection, _ error: any Error) {
        log("client \(connection.peer) dropped: \(error)")
    }

    /// Called exactly once per connection (TCPConnection.handleClose's state check).
    /// PITFALL: the on-close hook runs here and nowhere else: not where a connection starts closing,
    /// not in stop() before it closes the connections, not on an error that is followed by the close.
    /// Called from two places, it runs twice for some endings, and whatever it frees is freed twice.
    /// Guarded by: Tests/v0.N/ConnectionManagementTests.swift "on-open and on-close run once per connection, whatever ends it".
    func connectionClosed(_ connection: TCPConnection) {
        openCount -= 1
        shared.open[index].value.store(openCount, ordering: .relaxed)
        if connection.admitted { shared.admitted.subtract(1, ordering: .relaxed) }
        connection.replies?.abandoned.set()
        resumeAccepting()
        onClose?(connection)
        log("client \(connection.peer) closed")
        endStopIfDone()
    }
}

/// What the stats handler keeps on each connection that asks (its `context`): how often it asked.
/// Created on the first stats request, so a connection that never asks holds nothing.
final class StatsAsked {
    var count = 0

    static func of(_ connection: TCPConnection) -> StatsAsked {
        if let asked = connection.context as? StatsAsked { return asked }
        let asked = StatsAsked()
        connection.context = asked
        return asked
    }
}
