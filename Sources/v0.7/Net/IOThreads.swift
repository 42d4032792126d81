// IOThreads.swift: one event loop per thread; the first accepts and hands connections out in turn.
// v0.7: new.
import Synchronization

/// What the servers of all I/O loops share, every piece safe to touch from any thread (`Sendable`:
/// Atomics, and a WorkerPool, which locks).
final class ServerShared: Sendable {
    /// Connections open on each loop (stats' `loop_K_connections`; together `connections_open`), each
    /// written by its own loop only.
    let open: [Counter]
    /// Connections admitted and not yet closed, on every loop: what --max-connections limits. Raised by
    /// loop 0 only, at accept; lowered by whichever loop closes one.
    let admitted = Atomic<Int>(0)
    /// True while loop 0 has stopped accepting (Acceptor.stopWatching: out of descriptors, or the
    /// kernel short of memory): a connection that closes on another loop then tells loop 0 to try again.
    let acceptingPaused = Atomic<Bool>(false)
    /// The worker pool; nil with --workers 0 (slow routes run on the connection's loop).
    let workers: WorkerPool?
    /// Replies the workers produced for connections that had closed (or whose fd another connection
    /// now has) by the time they came back, and jobs not run because their connection had closed.
    let resultsDropped = Atomic<Int>(0)
    let jobsSkipped = Atomic<Int>(0)

    init(loops: Int, workers: Int, queue: Int) {
        precondition(loops >= 1)
        open = (0..<loops).map { _ in Counter() }
        self.workers = workers > 0 ? WorkerPool(threads: workers, capacity: queue) : nil
    }

    var connectionsOpen: Int { open.reduce(0) { $0 + $1.value.load(ordering: .relaxed) } }
}

/// One Atomic counter, as a class: an Atomic cannot be copied, so it cannot be an array's element.
final class Counter: Sendable {
    let value = Atomic<Int>(0)
}

/// A value one thread makes and another waits for (muduo's EventLoopThread::startLoop).
private final class Handoff<Value: Sendable>: @unchecked Sendable {   // `value` is touched with `lock` held only
    private let lock = Lock()
    private let ready = Condition()
    private var value: Value?

    func put(_ value: Value) {
        lock.withLock { self.value = value }
        ready.signal()
    }

    func take() -> Value {
        lock.withLock {
            while value == nil { ready.wait(lock) }
            return value!
        }
    }
}

extension EchoServer {
    /// Loop 0: starts the other I/O loops, each on a thread of its own, and waits until each has made
    /// its loop and its server. The loop is made on the thread that runs it: an EventLoop remembers its
    /// thread when it is made, and asserts it in every method that touches its state.
    func startIOThreads() {
        loop.assertInLoopThread()
        guard index == 0, siblings.isEmpty, shared.open.count > 1 else { return }
        // The routes a program registered: called on every loop's thread from now on, so they must be
        // safe there (muduo's rule for its callbacks). The built-in ones are each loop's own.
        let routes = UncheckedRoutes(list: registered, onOpen: onOpen, onClose: onClose)
        for index in 1..<shared.open.count {
            let made = Handoff<EchoServer>()
            siblingThreads.append(Thread.start { [self] in
                let server: EchoServer
                do {
                    server = try EchoServer(loop: index, of: self)
                    for (msgid, route) in routes.list { try server.router.register(msgid, route) }
                    server.onOpen = routes.onOpen
                    server.onClose = routes.onClose
                } catch {
                    fail("I/O loop \(index) cannot start: \(error)")
                }
                made.put(server)
                server.loop.run()
            })
            siblings.append(made.take())
        }
        // Each server learns the others (for stats), before any connection comes to it: a task queued
        // now runs before the hand-offs queued after it.
        let all = [self] + siblings
        others = siblings.map(Unretained.init)
        for sibling in siblings {
            sibling.loop.tasks.execute { _ in sibling.others = all.filter { $0 !== sibling }.map(Unretained.init) }
        }
        log("\(shared.open.count) I/O loops, \(shared.workers.map { "\($0.threadCount) workers" } ?? "no workers")")
    }

    /// Hands a connection just accepted to the loop whose turn it is: kept here on loop 0, or passed as
    /// a bare descriptor through the other loop's task queue (the task wakes it), to be adopted there.
    /// From then on it lives on that loop's thread only.
    func handOff(_ socket: consuming Socket, peer: SocketAddress?, admitted: Bool) -> TCPConnection? {
        let target = nextServer()
        guard target !== self else { return adopt(socket, peer: peer, admitted: admitted) }
        let fd = socket.release()
        let handed = target.loop.tasks.execute { _ in _ = target.adopt(Socket(fd: fd), peer: peer, admitted: admitted) }
        if !handed {                                 // that loop has ended: the server is stopping
            sysClose(fd)
            if admitted { shared.admitted.subtract(1, ordering: .relaxed) }
        }
        return nil
    }

    /// The server whose turn it is: loop 0, 1, ..., N-1, then 0 again.
    /// PITFALL: the turn must move on with every connection. Lars's thread pool (Lars#2), and the seed
    /// proxy's own round-robin, read the index and never advanced it: every connection went to the same
    /// loop, and the other threads idled.
    /// Guarded by: Tests/v0.N/IOThreadsTests.swift "connections spread evenly over the I/O loops".
    private func nextServer() -> EchoServer {
        guard !siblings.isEmpty else { return self }
        let turn = nextLoop
        nextLoop = (nextLoop + 1) % (siblings.count + 1)
        return turn == 0 ? self : siblings[turn - 1]
    }

    /// A connection closed, so a descriptor is free: if accepting paused for lack of one, try again.
    /// The acceptor is loop 0's: another loop asks it through its task queue.
    func resumeAccepting() {
        if let acceptor { return acceptor.resume() }
        guard shared.acceptingPaused.load(ordering: .relaxed), let first = firstServer else { return }
        first.loop.tasks.execute { _ in first.acceptor?.resume() }
    }

    /// Stats' lines for the threads: loops and their connections, workers and their queue.
    func threadStats() -> [(String, Int)] {
        var lines = [("io_threads", shared.open.count)]
        for (index, count) in shared.open.enumerated() {
            lines.append(("loop_\(index)_connections", count.value.load(ordering: .relaxed)))
        }
        let workers = shared.workers
        lines += [("workers", workers?.threadCount ?? 0), ("worker_queue", workers?.queued ?? 0),
                  ("worker_jobs_running", workers?.running.load(ordering: .relaxed) ?? 0),
                  ("worker_jobs_done", workers?.done.load(ordering: .relaxed) ?? 0),
                  ("worker_jobs_refused", workers?.refused.load(ordering: .relaxed) ?? 0),
                  ("worker_jobs_skipped", shared.jobsSkipped.load(ordering: .relaxed)),
                  ("worker_results_dropped", shared.resultsDropped.load(ordering: .relaxed))]
        return lines
    }
}

/// Routes and hooks on their way to the other loops' threads. `@unchecked Sendable`: they hold closures
/// that are not marked Sendable; `register`'s (and the hooks') contract is that the program's handlers
/// are safe to call from any loop's thread.
private struct UncheckedRoutes: @unchecked Sendable {
    let list: [(UInt32, Route)]
    let onOpen: ((TCPConnection) -> Void)?
    let onClose: ((TCPConnection) -> Void)?
}
