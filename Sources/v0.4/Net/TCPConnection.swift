// TCPConnection.swift: one connection (accepted or connected): its socket, its buffers while they hold bytes, its state.
// v0.3: new: reads on EPOLLIN, writes on EPOLLOUT (armed only while output is pending), closes once.
// v0.4: reports to a ConnectionOwner (the server, or a TCPClient), not to the server alone.
import Glibc

/// One client connection on an EventLoop (muduo's TcpConnection, the seed's EventHandler).
///
///     readable ──► read into the loop's readBuffer (or into `input`, if a partial frame waits there)
///                  └─► owner.handleMessages: whole frames handled, replies out through send()
///                  └─► a partial frame left over? copy it into `input`, taken from the pool
///     send()   ──► write(2) at once; what the kernel does not take goes to `output` (from the pool),
///                  and the interest becomes writable-only: stop reading a peer we owe bytes to
///     writable ──► write `output`; drained: give it back to the pool, interest back to readable
///
/// An idle connection holds no buffer. A peer that never reads its replies costs at most one read's
/// worth of output: while output is pending we do not read from it (backpressure).
///
/// Owns its socket: closes it exactly once, in `handleClose()`. Loop thread only.
public final class TCPConnection: EventHandler {
    enum State {
        case open
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
    private unowned let owner: any ConnectionOwner
    #else
    private unowned(unsafe) let loop: EventLoop
    private unowned(unsafe) let owner: any ConnectionOwner
    #endif
    /// The start of a frame whose end has not arrived yet. nil whenever there is none.
    private(set) var input: IOBuffer?
    /// Bytes the kernel would not take yet. nil whenever there are none.
    private(set) var output: IOBuffer?
    private(set) var state = State.open
    private var interest = Interest.readable
    /// True while the owner handles the frames in a buffer: that buffer is lent out, so a close in the
    /// middle (a send that fails) must not give it back to the pool under the owner's feet.
    private var handlingMessages = false

    init(socket: consuming Socket, peer: String, loop: EventLoop, owner: any ConnectionOwner) {
        fd = socket.fd
        self.socket = .some(socket)
        self.peer = peer
        self.loop = loop
        self.owner = owner
    }

    /// True until the connection starts closing; handlers send only while it is.
    public var isOpen: Bool { state == .open }

    /// EPOLLERR and EPOLLHUP go to whichever side is watched: the read or write that follows reports
    /// the error or end of stream (after any bytes still queued, which are not lost).
    public func handleEvent(_ events: UInt32) {
        let problem = events & (EpollEvents.error | EpollEvents.hangUp) != 0
        if interest.contains(.readable) && (events & EpollEvents.readable != 0 || problem) {
            handleRead()
        }
        if state != .closed && interest.contains(.writable) && (events & EpollEvents.writable != 0 || problem) {
            handleWrite()
        }
    }

    /// Level-triggered: one read per wakeup (epoll reports the fd again while bytes remain).
    /// Edge-triggered: read until EAGAIN, because no new event comes for bytes already there.
    /// Guarded by: the ladder run with --edge-triggered (Tests/Ladder/LadderStages.swift).
    private func handleRead() {
        repeat {
            let buffer = input ?? loop.readBuffer
            var wouldBlock = false
            let count: Int
            do {
                count = try buffer.append(reserving: 1024) { space in
                    guard let count = try sysRead(fd, into: space) else {
                        wouldBlock = true
                        return 0
                    }
                    return count
                }
            } catch {
                handleError(error)
                return
            }
            if wouldBlock { return }
            if count == 0 {
                handlePeerClosed()
                return
            }
            handlingMessages = true
            owner.handleMessages(self, buffer)
            handlingMessages = false
            keepPartialFrame(of: buffer)
        } while loop.edgeTriggered && state == .open && interest.contains(.readable)
    }

    /// After the frames are handled: a partial frame left in the shared read buffer moves into this
    /// connection's own `input`; an own `input` that is empty goes back to the pool.
    private func keepPartialFrame(of buffer: IOBuffer) {
        if buffer === loop.readBuffer {
            if state == .open && !buffer.isEmpty {
                let own = loop.pool.take(minimumCapacity: buffer.readableCount)
                buffer.withReadableBytes { own.append($0) }
                input = own
            }
            buffer.clear()
        } else if buffer === input && (buffer.isEmpty || state != .open) {
            // (If handleClose ran meanwhile, it has already given `input` back: never recycle twice,
            // or the pool would hand one buffer to two connections.)
            loop.pool.recycle(buffer)
            input = nil
        }
    }

    /// Sends `bytes`: written at once if nothing is queued, the rest queued in `output` for EPOLLOUT.
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
        if written < bytes.count {
            let queue = output ?? loop.pool.take(minimumCapacity: bytes.count - written)
            queue.append(UnsafeRawBufferPointer(rebasing: bytes[written...]))
            output = queue
            // PITFALL: EPOLLOUT is armed only now, while output waits: armed all the time, a
            // level-triggered loop would wake for every connection with room in its send buffer,
            // which is nearly always all of them, and burn a core while idle.
            // Guarded by: the ladder's fd-limit, whose CPU check sees that spin (make check 3).
            // Reading stops until the peer takes its bytes (backpressure).
            // Guarded by: the ladder's never-reader (make check 3).
            setInterest(.writable)
        }
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
            guard let written else { return }   // the send buffer is full again: wait for EPOLLOUT
            queue.consume(written)
        }
        loop.pool.recycle(queue)
        output = nil
        setInterest(.readable)
    }

    /// The peer sent FIN. It may still be reading (a half-close, shutdown(SHUT_WR)) and waiting for
    /// the rest of its echo.
    /// PITFALL: closing on end of stream while output is queued drops that echo. Here it cannot happen:
    /// reading stops while output is pending, so end of stream is only read once everything owed is out.
    /// Guarded by: the ladder's half-close (make check 3), which fails if reading goes on meanwhile.
    private func handlePeerClosed() {
        handleClose()
    }

    private func handleError(_ error: any Error) {
        // ECONNRESET, EPIPE, ETIMEDOUT: this peer is gone. Only this connection ends.
        owner.connectionFailed(self, error)
        handleClose()
    }

    /// Closes the connection: unregisters, closes the socket, gives the buffers back, tells the owner.
    /// PITFALL: EOF, an error and EPOLLHUP can all arrive for the same connection, even in the same
    /// wakeup; the state check makes the second call do nothing, so the fd is closed exactly once.
    /// Guarded by: Tests/v0.N/EventLoopTests.swift "a connection closes exactly once".
    public func handleClose() {
        loop.assertInLoopThread()
        guard state != .closed else { return }
        state = .closed
        loop.unregister(fd: fd)
        socket.take()?.close()
        // PITFALL: a send that fails while the owner is handling frames closes the connection from inside
        // handleMessages; `input` is then still in use, and keepPartialFrame gives it back afterwards.
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
