// Acceptor.swift: the listening socket's handler: takes every waiting connection off the backlog.
// v0.3: new: accept until EAGAIN; the spare-fd trick when the process runs out of descriptors; a
//       back-off when the kernel is short of memory.
// v0.6: close(): the listener closes at once when the server stops.
// v0.7: says when it pauses, for the other I/O loops' connections that close (resumeAccepting).
import Glibc

/// The Reactor's acceptor role: owns the listening socket (closed in its Socket's deinit) and one spare
/// descriptor, and hands each accepted socket to the server. Loop thread only.
final class Acceptor: EventHandler {
    /// nil once `close()` has closed it.
    private var listener: Socket?
    private unowned let server: EchoServer
    /// An fd held in reserve (/dev/null) so that, out of descriptors, we can still take a connection
    /// off the backlog and close it. -1 while given up.
    private var spareFD: CInt
    /// Connections closed at once because the process had no descriptor for them (EMFILE/ENFILE).
    private(set) var shedCount = 0
    /// True while accepting is switched off because even the spare fd is gone.
    private(set) var paused = false

    let fd: CInt

    init(listener: consuming Socket, server: EchoServer) throws {
        try listener.setNonBlocking()
        fd = listener.fd
        self.listener = .some(listener)
        self.server = server
        spareFD = try sysOpenReadOnly("/dev/null")
    }

    deinit {
        if spareFD >= 0 { sysClose(spareFD) }
    }

    /// Accepts until the backlog is empty (EAGAIN). Edge-triggered mode requires it: no new edge comes
    /// while connections are still waiting. Level-triggered mode does not, but one wakeup for a burst of
    /// connections is cheaper than one each.
    override func handleEvent(_ events: UInt32) {
        server.loop.assertInLoopThread()
        while true {
            var peer: SocketAddress?
            do {
                guard let client = try listener?.accept(peer: &peer) else { return }
                server.newConnection(client, peer: peer)
            } catch let error as SystemError where error.errno == EMFILE || error.errno == ENFILE {
                if !shed(error) { return }
            } catch {
                acceptFailed(error)
                return
            }
        }
    }

    /// PITFALL: out of descriptors, accept(2) fails with EMFILE and leaves the connection in the backlog.
    /// The listener stays readable, so a level-triggered loop wakes at once, fails again, and spins at
    /// 100% CPU (an edge-triggered one hears of the listener again only when another connection comes,
    /// fails again, and stalls once the backlog is full and the kernel drops new handshakes). The
    /// spare-fd trick (libev's and muduo's): give up the spare fd, accept the connection into it, close
    /// it, take the spare back.
    /// The client sees its connection closed instead of hanging, and the loop does not spin.
    /// Guarded by: the ladder's fd-limit (make check 3).
    /// Returns false if it could not shed (no spare): accepting is then paused until a connection closes.
    private func shed(_ error: SystemError) -> Bool {
        guard spareFD >= 0 else { return pause(error) }
        sysClose(spareFD)
        spareFD = -1
        var peer: SocketAddress?
        let doomed = try? listener?.accept(peer: &peer)
        let accepted = doomed != nil
        doomed?.close()
        spareFD = (try? sysOpenReadOnly("/dev/null")) ?? -1
        // Nothing was waiting: out of descriptors, accept(2) says EMFILE before it even looks at the
        // backlog, so an empty backlog looks like more work. Stop here, or this loop spins.
        guard accepted else { return false }
        shedCount += 1
        if shedCount == 1 || shedCount % 100 == 0 {     // a storm sheds hundreds: say so, not each one
            log("out of file descriptors (\(errnoName(error.errno))): closed a connection from \(peer.map(String.init(describing:)) ?? "?") at once (\(shedCount) so far)")
        }
        return true
    }

    /// Without a spare, stop watching the listener so the loop does not spin; `resume` turns it back on.
    private func pause(_ error: SystemError) -> Bool {
        log("out of file descriptors (\(errnoName(error.errno))) and no spare: accepting paused")
        stopWatching()
        // v0.7: and try again after the back-off anyway. A connection closing on another loop reads
        // `acceptingPaused` to know whether to wake us, and may read it just before we set it.
        server.loop.runAfter(Acceptor.backOffDelay) { [weak self] in self?.resume() }
        return false
    }

    /// How long accepting waits after a failure that is not EMFILE.
    static let backOffDelay: Duration = .milliseconds(100)

    /// accept(2) failed otherwise: ENOBUFS or ENOMEM, the kernel short of memory (sysAccept retried the
    /// failures of a single connection, and our own bugs stopped the program).
    /// PITFALL: such a failure comes back at once. The listener is still readable, so a level-triggered
    /// loop would call accept again straight away: a spin at 100% CPU, logging a line every time.
    /// Stop watching the listener instead, and try again after `backOffDelay` (or when a connection
    /// closes and frees some memory).
    /// Guarded by: Tests/v0.N/EventLoopTests.swift "accepting pauses after ENOBUFS, then resumes".
    func acceptFailed(_ error: any Error) {
        log("accept failed: \(error); accepting again in \(Acceptor.backOffDelay)")
        stopWatching()
        server.loop.runAfter(Acceptor.backOffDelay) { [weak self] in self?.resume() }
    }

    private func stopWatching() {
        paused = true
        server.shared.acceptingPaused.store(true, ordering: .relaxed)
        do {
            try server.loop.modify(fd: fd, interest: [])
        } catch {
            log("cannot pause accepting: \(error)")     // ENOMEM: the next wakeup tries again
        }
    }

    /// Stops accepting for good: unregisters, and closes the listening socket now, not when the loop
    /// lets this handler go at the end of the wakeup: from this instant a connect is refused, before any
    /// client of the stopping server can see its end of stream.
    func close() {
        server.loop.unregister(fd: fd)
        listener.take()?.close()
    }

    /// Called when a connection closes (a descriptor is free again) or the back-off is over.
    func resume() {
        guard paused, listener != nil else { return }   // (closed: a back-off timer may still fire)
        paused = false
        server.shared.acceptingPaused.store(false, ordering: .relaxed)
        if spareFD < 0 { spareFD = (try? sysOpenReadOnly("/dev/null")) ?? -1 }
        do {
            try server.loop.modify(fd: fd, interest: .readable)
        } catch {
            acceptFailed(error)                             // ENOMEM: try again after the back-off
        }
    }
}
