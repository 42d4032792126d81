// TCPConnection.swift: one connection (accepted or connected): its socket, its buffers while they hold bytes, its state.
// v0.3: new: reads on EPOLLIN (the server handles the bytes where they landed), writes on EPOLLOUT
//       (armed only while output is pending), closes once.
// v0.4: reports to a ConnectionOwner (the server, or a TCPClient), not to the server alone.
// v0.5: a closing state between open and closed (the lingering close); a context for handlers.
// v0.6: output water marks instead of "stop reading while anything is owed"; the stamps the server's
//       timeouts read (last read, frame start, write progress) on the loop's coarse clock.
// v0.7: replies still with the worker pool (`replies`); reading pauses while too many wait.
import Glibc

/// One client connection on an EventLoop (muduo's TcpConnection, the seed's EventHandler).
///
///     readable ──► read into the loop's readBuffer (or into `input`, if a partial frame waits there)
///                  └─► owner.handleMessages(bytes): whole frames handled, replies out through send();
///                      returns how many bytes they took
///                  └─► a partial frame left over? copy it into `input`, taken from the pool
///     send()   ──► write(2) at once; what the kernel does not take goes to `output` (from the pool),
///                  and the interest adds writable; past the high-water mark it is writable only
///     writable ──► write `output`; down to the low-water mark, read again; drained: give it back to
///                  the pool, interest back to readable
///
/// and it ends in one of two ways:
///
///     open ──handleClose()──────────────────────────────────────────────────────────► closed
///       │                                                                              ▲
///       └─lingeringClose()──► closing: owed output flushed ─► shutdown(SHUT_WR) ─► input read and
///                             (nothing more is answered)      (our FIN)           discarded until the
///                                                                                 peer's FIN, an error,
///                                                                                 lingerBytes or lingerTime
///
/// An idle connection holds no buffer. A peer that never reads its replies costs at most the high-water
/// mark and one read's worth of output: past the mark we do not read from it (backpressure).
///
/// Owns its socket: closes it exactly once, in `handleClose()`. Loop thread only.
public final class TCPConnection: EventHandler {
    enum State {
        case open
        /// Ending on purpose (lingeringClose): still flushing, or reading and discarding until the peer
        /// has seen our end of stream. No frame is answered any more.
        case closing
        case closed
    }

    private var socket: Socket?
    public let fd: CInt
    public let peer: String
    // Who outlives whom: the loop's table holds each registered connection, and both the loop and the
    // owner must outlive it (the server owns its loop; a TCPClient holds its loop, and its deinit
    // checks that it is not dropped while its connection is open). Given that, the references need no
    // check at run time: unowned(unsafe) skips the atomic retain and release that plain `unowned` does
    // on every use, 240 of about 780 instructions per round trip on the echo path (make bench-instr 3).
    // Debug builds (every test, the sanitizers, the fuzzers) keep the check: there, a use after the
    // loop or the owner is gone traps instead of reading freed memory.
    // Guarded by: Tests/v0.N/EventLoopTests.swift "a connection whose owner is gone traps in a debug build".
    #if DEBUG
    private unowned let loop: EventLoop
    #else
    private unowned(unsafe) let loop: EventLoop
    #endif
    /// The server or the TCPClient, held the same way (`Unretained`).
    private let owner: ConnectionOwner
    /// The start of a frame whose end has not arrived yet. nil whenever there is none.
    private(set) var input: IOBuffer?
    /// Bytes the kernel would not take yet. nil whenever there are none.
    private(set) var output: IOBuffer?
    private(set) var state = State.open
    private var interest = Interest.readable
    /// True while the owner handles the frames in a buffer: that buffer is lent out, so a close in the
    /// middle (a send that fails) must not give it back to the pool under the owner's feet.
    private var handlingMessages = false
    /// Bytes read and thrown away while closing.
    private var discarded = 0
    /// The peer's end of stream came before our output was all out: close once it is.
    private var peerEnded = false
    /// The timer that ends a lingering close that takes too long; cancelled when the connection closes.
    private var lingerTimer: TimerID?
    /// When, on the loop's coarse clock (EventLoop.tick), bytes last arrived or the last owed byte
    /// left; when the partial frame waiting in `input` started (or reading resumed after the high-water
    /// mark); when output last moved (or was first queued). The server's sweep reads them for
    /// --idle-timeout, --frame-timeout and --write-timeout: three stamps, no timer each.
    private(set) var lastActiveTick: UInt32 = 0
    private(set) var frameStartTick: UInt32 = 0
    private(set) var writeProgressTick: UInt32 = 0
    /// The server's: whether this connection counts toward --max-connections (false: refused, `busy`).
    var admitted = false
    /// True while the server has as many replies waiting as it allows (EchoServer.maxRepliesWaiting):
    /// the peer is not read until fewer wait (`resumeReading`); frames already read wait in `input`.
    /// (Declared here, beside `admitted`: Swift lays stored properties out in order, and two more
    /// Bools fit in the padding before `context`. Further down, with the second a `Duration?`, they
    /// cost 32 more bytes per idle connection: 227 against 195, make bench-conns 7.)
    private(set) var readingPaused = false
    /// A lingering close is due (a stopping server, a protocol error) but replies still wait on the
    /// workers: it comes when they are out (`resumeReading`), within lingerTime, or the server's grace.
    private var lingerWhenAnswered = false
    /// Whatever the handlers keep for this connection (Lars's conn param): nil until one sets it, and let
    /// go with the connection. One slot: handlers that each keep something share one type that holds it all.
    public var context: AnyObject?
    /// The replies owed in request order while a request of this connection is with the worker pool
    /// (see ReplyQueue); nil while none is. The server's.
    var replies: ReplyQueue?

    init(socket: consuming Socket, peer: String, loop: EventLoop, owner: ConnectionOwner) {
        fd = socket.fd
        self.socket = .some(socket)
        self.peer = peer
        self.loop = loop
        self.owner = owner
        lastActiveTick = loop.tick
    }

    /// Which of the server's deadlines has passed at `now` (ticks of the loop's coarse clock; a limit of
    /// 0 is off), if any. Idle means nothing received and nothing owed either way: a client downloading
    /// a long reply, or in the middle of a frame, is not idle (the write and frame deadlines watch those);
    /// nor is one whose replies wait on the workers (v0.7).
    /// (More than `limit` ticks, not as many: a stamp taken just before the clock's next tick would
    /// otherwise expire up to one tick early.)
    func expiredDeadline(now: UInt32, idle: UInt32, frame: UInt32, write: UInt32) -> TimeoutKind? {
        if write > 0 && output != nil && now &- writeProgressTick > write { return .write }
        // (A frame's deadline runs only while we read: past the high-water mark the peer cannot finish it.)
        if frame > 0 && input != nil && interest.contains(.readable) && now &- frameStartTick > frame { return .frame }
        if idle > 0 && output == nil && input == nil && replies == nil && now &- lastActiveTick > idle { return .idle }
        return nil
    }

    /// The server is stopping: answer what this peer has sent, what the kernel holds for us now
    /// included (reading until EAGAIN, or until the high-water mark stops us), then a lingering close:
    /// the peer reads every reply, then end of stream. What it sends after that is discarded.
    /// (Frames beyond the high-water mark stay unread, and the lingering close discards them: see
    /// chapter 6's decisions.) `grace` bounds the lingering close.
    func answerWhatArrivedAndClose(within grace: Duration) {
        while state == .open && !peerEnded && interest.contains(.readable) {
            let gotBytes = input == nil ? readIntoLoopBuffer() : readIntoInput()
            guard gotBytes else { break }
        }
        lingeringCloseWhenAnswered(within: grace)
    }

    /// A lingering close, once every reply still waiting on the workers is out (at once if none is):
    /// meanwhile nothing more is read or answered. (Closed now, the replies owed would be lost, the
    /// error frame that says why among them.)
    func lingeringCloseWhenAnswered(within time: Duration = TCPConnection.lingerTime) {
        guard replies != nil && state == .open else { return lingeringClose(within: time) }
        lingerWhenAnswered = true
        pauseReading()
    }

    /// The server has as many replies waiting as it allows: stop reading this peer until fewer wait.
    func pauseReading() {
        readingPaused = true
        setInterest(interest.subtracting(.readable))
    }

    /// Called by the server whenever replies that waited on the workers went out: if reading was
    /// paused, the frames that wait in `input` are handled now (they may pause it again), then the
    /// peer is read again; a peer that has ended, or a stopping server, gets its close once nothing
    /// is owed any more.
    func resumeReading() {
        guard state == .open else { return }
        if replies == nil { lastActiveTick = loop.tick }      // the idle deadline starts from here
        if readingPaused {
            readingPaused = false
            answerWhatWaitsInInput()                           // (which may pause it again)
        }
        guard state == .open else { return }
        if lingerWhenAnswered {
            // A lingering close is due once the replies are out; until then nothing more is read.
            if replies == nil { lingeringClose() } else { pauseReading() }
            return
        }
        guard !readingPaused else { return }
        if peerEnded {
            if replies == nil && output == nil { handleClose() }
        } else if !interest.contains(.readable) && (output?.readableCount ?? 0) <= loop.outputLowWater {
            setInterest(output == nil ? .readable : [.readable, .writable])
        }
    }

    /// Whether the connection reads its peer now (false past the high-water mark, and once it ended).
    var isReading: Bool { interest.contains(.readable) }

    /// True until the connection starts closing; handlers send only while it is.
    public var isOpen: Bool { state == .open }

    /// A lingering close reads and throws away at most this many bytes, for at most this long, waiting
    /// for the peer's end of stream; then it closes anyway (a peer that never stops sending must not keep
    /// the connection forever). Enough for a client that had 16 MiB in flight (the ladder's
    /// oversize-then-more).
    public static let lingerBytes = 64 << 20
    public static let lingerTime: Duration = .seconds(5)

    /// EPOLLERR and EPOLLHUP go to whichever side is watched: the read or write that follows reports
    /// the error or end of stream (after any bytes still queued, which are not lost).
    public override func handleEvent(_ events: UInt32) {
        // The common case first: readable only, nothing owed. (Both directions tested in turn for every
        // event cost 14 of 135 instructions per round trip: make bench-instr 3.)
        // A closing connection's interest is never .readable alone (it adds .peerHalfClosed, or is
        // .writable): so the read path needs no test of the state (lingeringClose).
        if interest == .readable {
            if events & (EpollEvents.readable | EpollEvents.error | EpollEvents.hangUp) != 0 { handleRead() }
        } else if state == .closing {
            handleClosing(events)
        } else if interest.isEmpty {
            // Reading paused and nothing owed (v0.7): only an error or a hang-up comes, and would come
            // again at once (level-triggered) until handled. The peer is gone.
            if events & (EpollEvents.error | EpollEvents.hangUp) != 0 { handleClose() }
        } else {
            // Output is owed: write it, and, below the high-water mark, go on reading too.
            if events & (EpollEvents.writable | EpollEvents.error | EpollEvents.hangUp) != 0 { handleWrite() }
            if state == .open && interest.contains(.readable),
               events & (EpollEvents.readable | EpollEvents.error | EpollEvents.hangUp) != 0 {
                handleRead()
            }
        }
    }

    /// Level-triggered: one read per wakeup (epoll reports the fd again while bytes remain).
    /// PITFALL: edge-triggered, one read per wakeup leaves bytes behind that no new event announces:
    /// read until EAGAIN.
    /// Guarded by: the ladder's echo-1-mib with --edge-triggered (make check 3).
    /// (Tests/Ladder/LadderStages.swift runs the whole ladder both ways.)
    /// Inlined into handleEvent, with readIntoLoopBuffer and the server's handleMessages, so that the
    /// echo path is one function: called, it cost 13 of 134 instructions per round trip (make bench-instr 3).
    @inline(__always)
    private func handleRead() {
        repeat {
            // Nearly always, no partial frame waits: read into the loop's buffer. Else read after it.
            let gotBytes = input == nil ? readIntoLoopBuffer() : readIntoInput()
            guard gotBytes else { return }
        } while loop.edgeTriggered && state == .open && interest.contains(.readable)
    }

    /// Reads into the loop's shared buffer and lends what arrived to the owner; a partial frame left
    /// at the end moves into this connection's own `input`, taken from the pool. Returns false if
    /// nothing was read (EAGAIN, end of stream, an error).
    @inline(__always)
    private func readIntoLoopBuffer() -> Bool {
        let buffer = loop.readBuffer
        let count: Int
        do {
            guard let read = try sysRead(fd, into: UnsafeMutableRawBufferPointer(start: buffer, count: EventLoop.readBufferSize)) else { return false }
            count = read
        } catch {
            handleError(error)
            return false
        }
        if count == 0 {
            handlePeerClosed()
            return false
        }
        lastActiveTick = loop.tick
        let bytes = UnsafeRawBufferPointer(start: buffer, count: count)
        // No partial frame waits (input is nil), so a close inside the owner finds nothing to give back.
        let used = owner.handleMessages(self, bytes)
        if used < count && state == .open {
            let own = loop.pool.take(minimumCapacity: count - used)
            own.append(UnsafeRawBufferPointer(start: buffer + used, count: count - used))
            input = own
            frameStartTick = loop.tick                 // a frame started and is not whole yet
        }
        return true
    }

    /// Reads after the partial frame waiting in `input` (which grows as needed: a big frame takes many
    /// reads) and lends all of it to the owner; `input` goes back to the pool once it is empty.
    /// PITFALL: kept after it is empty, every connection that once received a partial frame would hold
    /// a buffer while idle.
    /// Guarded by: Tests/v0.N/EventLoopTests.swift "an idle connection holds no buffer; a partial frame borrows one until it is whole".
    private func readIntoInput() -> Bool {
        guard let input else { return false }
        var wouldBlock = false
        let count: Int
        do {
            count = try input.append(reserving: 1024) { space in
                guard let count = try sysRead(fd, into: space) else {
                    wouldBlock = true
                    return 0
                }
                return count
            }
        } catch {
            handleError(error)
            return false
        }
        if wouldBlock { return false }
        if count == 0 {
            handlePeerClosed()
            return false
        }
        lastActiveTick = loop.tick
        answerWhatWaitsInInput()
        return true
    }

    /// Lends what `input` holds to the owner, and keeps what its whole frames did not take; `input`
    /// goes back to the pool once it is empty. After a read, and (v0.7) when reading resumes: the
    /// frames read while it was paused.
    private func answerWhatWaitsInInput() {
        guard let input else { return }
        let used = input.withReadableBytes { handleMessages($0) }
        input.consume(used)
        // PITFALL: the frame deadline runs from when a frame started, and only a new frame restarts it:
        // moved by every byte that arrives, a client sending one byte a second keeps a frame (and its
        // buffer) open for ever (slowloris).
        // Guarded by: the ladder's slowloris (make check 6).
        if used > 0 { frameStartTick = loop.tick }    // those frames were whole; what is left is a new one
        // (If the owner closed the connection meanwhile, handleClose left `input` to us: see there.)
        if input.isEmpty || state != .open {
            loop.pool.recycle(input)
            self.input = nil
        }
    }

    /// Lends `bytes` to the owner, which handles the whole frames at their front and says how many
    /// bytes those took.
    private func handleMessages(_ bytes: UnsafeRawBufferPointer) -> Int {
        handlingMessages = true
        defer { handlingMessages = false }
        return owner.handleMessages(self, bytes)
    }

    /// Sends `bytes`: written at once if nothing is queued, the rest queued in `output` for EPOLLOUT.
    /// Inlined (with sysWrite, and sysRead in the read path): as calls, the three cost 69 of 190
    /// instructions per round trip (make bench-instr 3), though any one of them alone was inlined anyway.
    @inline(__always)
    public func send(_ bytes: UnsafeRawBufferPointer) {
        loop.assertInLoopThread()
        guard state == .open else { return }
        var written = 0
        if output == nil {
            do {
                written = try sysWrite(fd, from: bytes) ?? 0
            } catch {
                handleError(error)
                return
            }
        }
        if written < bytes.count { queue(UnsafeRawBufferPointer(rebasing: bytes[written...])) }
    }

    /// Keeps what the kernel would not take, to be written on EPOLLOUT.
    private func queue(_ bytes: UnsafeRawBufferPointer) {
        let reading = !readingPaused && !peerEnded && (output == nil || interest.contains(.readable))   // (stopped: only the low mark restarts it)
        if output == nil { writeProgressTick = loop.tick }   // newly owed: the write deadline starts
        let queue = output ?? loop.pool.take(minimumCapacity: bytes.count)
        queue.append(bytes)
        output = queue
        // PITFALL: EPOLLOUT is armed only now, while output waits: armed all the time, a
        // level-triggered loop would wake for every connection with room in its send buffer,
        // which is nearly always all of them, and burn a core while idle.
        // Guarded by: the ladder's fd-limit, whose CPU check sees that spin (make check 3).
        // PITFALL: reading stops once the output owed passes the high-water mark, until the peer has
        // taken it down to the low-water mark (backpressure): read on regardless, and a peer that never
        // reads makes us buffer without limit.
        // Guarded by: the ladder's never-reader-bounded (make check 6).
        setInterest(reading && queue.readableCount < loop.outputHighWater ? [.readable, .writable] : .writable)
    }

    /// Writes queued output until done or EAGAIN.
    private func handleWrite() {
        guard let queue = output else { return }
        while !queue.isEmpty {
            let written: Int?
            do {
                written = try queue.withReadableBytes { try sysWrite(fd, from: $0) }
            } catch {
                handleError(error)
                return
            }
            guard let written else {            // the send buffer is full again: wait for EPOLLOUT
                // Down to the low-water mark: read again (unless the peer has ended, or we are closing).
                if state == .open && !peerEnded && !readingPaused && queue.readableCount <= loop.outputLowWater && !interest.contains(.readable) {
                    frameStartTick = loop.tick           // the peer could not go on with its frame meanwhile
                    setInterest([.readable, .writable])
                }
                return
            }
            queue.consume(written)
            writeProgressTick = loop.tick
        }
        loop.pool.recycle(queue)
        output = nil
        lastActiveTick = loop.tick                  // the idle deadline starts when nothing is owed
        if state == .closing {
            finishWriting()
        } else if peerEnded {
            // Everything owed to a half-closed peer is out, unless replies still wait on the workers.
            if replies == nil { handleClose() } else { setInterest([]) }
        } else {
            setInterest(readingPaused ? [] : .readable)
        }
    }

    /// The peer sent FIN. It may still be reading (a half-close, shutdown(SHUT_WR)) and waiting for
    /// the rest of its echo.
    /// PITFALL: closing on end of stream while output is owed drops the end of that echo. Until v0.5
    /// it could not happen (reading stopped while anything was owed); with water marks the server reads
    /// on while it owes less than the high mark, so end of stream can come first: stop reading, flush,
    /// then close.
    /// Guarded by: Tests/v0.N/EventLoopTests.swift "a half-closed peer gets its whole echo, then end of stream".
    /// (The ladder's half-close checks the same over TCP, but catches this bug only when timing allows.)
    private func handlePeerClosed() {
        guard output != nil || replies != nil else { return handleClose() }
        peerEnded = true
        setInterest(output != nil ? .writable : [])
    }

    private func handleError(_ error: any Error) {
        // ECONNRESET, EPIPE, ETIMEDOUT: this peer is gone. Only this connection ends.
        owner.connectionFailed(self, error)
        handleClose()
    }

    /// Ends the connection on purpose (after an error frame: `too-large`, `busy`), without a reset: the
    /// lingering close of the wire contract.
    ///
    /// PITFALL: close(2) with unread bytes in the receive buffer makes Linux send a reset (RFC 2525)
    /// instead of a FIN. A client still writing then fails with ECONNRESET or EPIPE, often before it has
    /// read the error frame that said why. So: answer nothing more, flush what is owed, shutdown(SHUT_WR)
    /// (our FIN: the client reads the end of the stream after the frame), then read and discard until the
    /// client's own FIN, which says it has read everything and stopped; only then close.
    /// Guarded by: the ladder's oversize-then-more (make check 5).
    public func lingeringClose(within time: Duration = TCPConnection.lingerTime) {
        loop.assertInLoopThread()
        guard state == .open else { return }
        state = .closing
        // Bounded in time: a peer that never stops sending is closed anyway (with a reset) after
        // `time` (and in bytes: handleClosing).
        lingerTimer = loop.runAfter(time) { [weak self] in self?.handleClose() }
        // A partial frame waiting in `input` will never be answered. (If it is lent out right now, the
        // read path gives it back: it does so whenever the state is not .open.)
        if let input, !handlingMessages {
            loop.pool.recycle(input)
            self.input = nil
        }
        if output == nil {
            finishWriting()
        } else {
            // Still owed: flush it, and meanwhile discard what arrives, so that a peer that writes
            // everything before it reads cannot deadlock against us. The interest changes in every case,
            // so epoll looks at the fd again: bytes already waiting are reported, even edge-triggered.
            setInterest([.writable, .readable, .peerHalfClosed])
        }
    }

    /// Everything owed is out: our FIN, then wait for the peer's, discarding what comes before it.
    private func finishWriting() {
        if peerEnded { return handleClose() }   // the peer is done already: nothing left to wait for
        do {
            try socket?.shutdownWrite()
        } catch {
            return handleClose()             // ENOTCONN: the peer reset meanwhile; nothing to wait for
        }
        setInterest([.readable, .peerHalfClosed])
    }

    /// The closing state's events: flush what is owed, and read and discard.
    private func handleClosing(_ events: UInt32) {
        if output != nil, events & (EpollEvents.writable | EpollEvents.error | EpollEvents.hangUp) != 0 {
            handleWrite()
        }
        guard state == .closing, events & (EpollEvents.readable | EpollEvents.error | EpollEvents.hangUp) != 0 else { return }
        // Until EAGAIN in both trigger modes: cheaper than a wakeup per read, and what ET needs.
        while true {
            let count: Int?
            do {
                count = try sysRead(fd, into: UnsafeMutableRawBufferPointer(start: loop.readBuffer, count: EventLoop.readBufferSize))
            } catch {
                return handleClose()         // ECONNRESET: the peer is gone; nothing more to wait for
            }
            guard let count else { return }  // EAGAIN: wait for more, or for the peer's FIN
            // PITFALL: the peer's end of stream ends the linger only once our output is out: a peer that
            // half-closed still reads, and closing now would drop what we owe it. Stop reading instead
            // (its end of stream would wake a level-triggered loop forever), and close once flushed.
            // (The connection-life fuzzer found this: fuzz/corpus/connection-life/found-closing-peer-ended-while-owed.)
            // Guarded by: Tests/v0.N/ConnectionManagementTests.swift "a half-closed peer gets everything owed before a lingering close ends".
            if count == 0 && output != nil {
                peerEnded = true
                return setInterest(.writable)
            }
            discarded += count
            // PITFALL: the linger is bounded in bytes too: a peer that sends without end would keep the
            // connection (and its fd) for all of lingerTime, and many such peers every fd.
            // Guarded by: Tests/v0.N/ConnectionManagementTests.swift "a lingering close gives up after lingerBytes of input".
            if count == 0 || discarded > TCPConnection.lingerBytes { return handleClose() }
        }
    }

    /// Closes the connection: unregisters, closes the socket, gives the buffers back, tells the owner.
    /// PITFALL: EOF, an error and EPOLLHUP can all arrive for the same connection, even in the same
    /// wakeup; the state check makes the second call do nothing, so the fd is closed exactly once.
    /// Guarded by: Tests/v0.N/EventLoopTests.swift "a connection closes exactly once".
    public func handleClose() {
        loop.assertInLoopThread()
        guard state != .closed else { return }
        state = .closed
        if let lingerTimer { loop.cancel(lingerTimer) }
        loop.unregister(fd: fd)
        socket.take()?.close()
        // PITFALL: a send that fails while the owner is handling frames closes the connection from inside
        // handleMessages; `input` is then still in use, and readIntoInput gives it back afterwards.
        // Guarded by: Tests/v0.N/EventLoopTests.swift "a send that fails while frames are handled does not crash".
        if let input, !handlingMessages {
            loop.pool.recycle(input)
            self.input = nil
        }
        if let output { loop.pool.recycle(output) }
        output = nil
        owner.connectionClosed(self)
    }

    private func setInterest(_ wanted: Interest) {
        guard wanted != interest else { return }
        interest = wanted
        do {
            try loop.modify(fd: fd, interest: wanted)
        } catch {
            // ENOMEM: the kernel could not change what it watches this fd for. Left as it is, the
            // connection would wait for an event that never comes: end it (epoll_ctl's other errors
            // are our own bugs, and stop the program).
            handleError(error)
        }
    }
}
