// SlowRequests.swift: slow requests (msgid 3 sleep, 4 compute) on the worker pool, replies in order.
// v0.7: new.

extension EchoServer {
    /// How many replies a connection may have waiting (see ReplyQueue) before the server stops
    /// reading it until some are out: backpressure, not memory. (A run of echoes read together counts
    /// as one.)
    public static let maxRepliesWaiting = 32

    /// A slow request (`.slow` route): to the worker pool, with its reply's place kept in the
    /// connection's ReplyQueue; or, with --workers 0, run right here on the loop, which serves nobody
    /// else meanwhile (the problem the workers solve: chapter 7). Returns whether the connection is
    /// still open.
    func answerSlow(_ connection: TCPConnection, _ msgid: UInt32, _ payload: UnsafeRawBufferPointer) -> Bool {
        let handler = router.slowHandler(msgid)
        do {
            try handler.check(payload)
        } catch {
            sendError(error.code, error.reason, on: connection)      // malformed: at once, in its place
            return connection.isOpen
        }
        // PITFALL: a slow handler run on the loop stops every other connection of that loop until it
        // returns: a 1 s sleep is a 1 s stall for all of them (what --workers 0 shows on purpose). With
        // workers, the loop only hands the request over and goes on.
        // Guarded by: the ladder's sleep-then-echo (make check 7).
        guard let workers = shared.workers else {
            handler.run(payload).withUnsafeBytes { sendReply(msgid, $0, on: connection) }
            return connection.isOpen
        }
        let replies = connection.replies ?? ReplyQueue()
        connection.replies = replies
        let ticket = replies.reserve()
        // What the job takes with it: a copy of the payload (the read buffer is reused as soon as this
        // read is handled), and the connection's registration id, not the connection: the worker must
        // not touch it, and it may be gone by the time the result is back.
        let request = Array(payload)
        let id = loop.registrationID(of: connection.fd)
        let abandoned = replies.abandoned
        let queued = workers.submit { [self] in
            // Its connection closed before a worker got to it: nobody waits for the reply.
            guard !abandoned.isSet else {
                shared.jobsSkipped.add(1, ordering: .relaxed)
                return
            }
            let reply = request.withUnsafeBytes { handler.run($0) }
            // Back to the connection's own loop, which alone may write to it. (Refused: the server
            // is stopping, and that loop is gone.)
            let handed = loop.tasks.execute { _ in self.deliver(.success(reply), msgid: msgid, ticket: ticket, to: id) }
            if !handed { shared.resultsDropped.add(1, ordering: .relaxed) }
        }
        guard queued else {
            // Full: `busy`, now, in this request's place. The loop never waits for a worker.
            deliver(.failure(RequestError(.busy, "the worker queue is full (--queue \(workers.capacity))")),
                    msgid: msgid, ticket: ticket, to: id)
            return connection.isOpen
        }
        return true
    }

    /// A worker's result for the request `ticket` of the connection registered as `id`: into its place
    /// in the connection's ReplyQueue, and out with every reply ready behind it. Loop thread only.
    /// PITFALL: the connection is found by its registration id (fd and generation), never by its fd
    /// alone: it may have closed while the worker ran, and its fd number gone to a new connection,
    /// which would get a stranger's reply (the stale event of chapter 3, from another thread).
    /// Guarded by: Tests/v0.N/SlowRequestsTests.swift "a result for a closed connection is dropped, even when its fd is reused".
    func deliver(_ result: Result<[UInt8], RequestError>, msgid: UInt32, ticket: Int, to id: UInt64) {
        guard let connection = loop.handler(registeredAs: id) as? TCPConnection, connection.isOpen,
              let replies = connection.replies else {
            shared.resultsDropped.add(1, ordering: .relaxed)
            return
        }
        let frame = pool.take()
        defer { pool.recycle(frame) }
        switch result {
        case .success(let payload):
            payload.withUnsafeBytes { codec.encode(msgid: msgid, payload: $0, into: frame) }
        case .failure(let error):
            stats.countError(error.code)
            codec.encodeError(code: error.code, error.reason, into: frame)
        }
        stats.otherFramesOut += 1
        stats.otherBytesOut += frame.readableCount
        replies.fill(ticket, with: frame.withReadableBytes { Array($0) }) { connection.send($0) }
        if replies.isEmpty { connection.replies = nil }
        // Below the bound again (or none left): read on, answering first what waits in `input`.
        if !connection.mustWaitForReplies { connection.resumeReading() }
    }

    /// Frames that arrive while replies wait on the workers: answered as usual, from the first, but
    /// every reply waits in the ReplyQueue behind those (sendEchoes and send see `replies`).
    @inline(never)
    func answerBehindWaitingReplies(_ connection: TCPConnection, _ bytes: UnsafeRawBufferPointer) -> Int {
        if connection.mustWaitForReplies {       // (see answerMixed)
            connection.pauseReading()
            return 0
        }
        do {
            guard let header = try codec.nextFrame(in: bytes, at: 0) else { return 0 }
            return answerMixed(connection, bytes, echoesUpTo: 0, header, router.route(header.msgid))
        } catch {
            refuse(connection, error, bytes, echoesFrom: 0, to: 0)
            return bytes.count
        }
    }

    /// A reply frame: `msgid`, then `payload`. (--workers 0.)
    private func sendReply(_ msgid: UInt32, _ payload: UnsafeRawBufferPointer, on connection: TCPConnection) {
        let frame = pool.take()
        defer { pool.recycle(frame) }
        codec.encode(msgid: msgid, payload: payload, into: frame)
        send(frame, on: connection)
    }
}

extension TCPConnection {
    /// As many replies wait on the workers as a connection may have (EchoServer.maxRepliesWaiting).
    var mustWaitForReplies: Bool { (replies?.count ?? 0) >= EchoServer.maxRepliesWaiting }
}
