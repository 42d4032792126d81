// LoadGenerator.swift: the workbook's one load generator: many client connections on one epoll loop
// of its own, driven for a time or a count of requests, every reply checked.
import CLinux
import Conformance
import Glibc

/// Drives a LoadPlan against a server. It is stage-independent on purpose: every stage, and the C
/// reference, is measured by this same code, so a change in the table is a change in the server.
///
/// One thread, one epoll instance, level-triggered. Per event it does what a careful server does:
/// one read into one shared 64 KiB buffer, a check of the bytes against the request they answer,
/// and the next request's send; it allocates nothing per request. Even so it does about as much
/// kernel work per round trip as the server (a send, a read, a share of an epoll_wait), so on two
/// cores the generator and the server each fill one: results say when the generator was saturated.
///
/// Use: `connect()`, then any number of `run(...)` stretches, then `close()` (or let it deinit).
public final class LoadGenerator {
    public let plan: LoadPlan
    private let epollFD: CInt
    private var connections: [LoadConnection] = []
    private var frame: FrameTemplate
    private let readBuffer: UnsafeMutableRawBufferPointer
    private let events: UnsafeMutablePointer<epoll_event>
    private let eventCapacity = 1024
    /// The first error of each kind a connection met, for the report.
    public private(set) var firstErrors: [String] = []
    private var result = LoadResult()
    private var recording = false
    private var recordingStart: UInt64 = 0

    public init(plan: LoadPlan) throws {
        precondition(plan.connections > 0 && plan.pipeline > 0 && plan.payloadSize >= 0)
        self.plan = plan
        epollFD = try sysEpollCreate()
        frame = FrameTemplate(payloadSize: plan.payloadSize)
        readBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)
        events = .allocate(capacity: eventCapacity)
    }

    deinit {
        close()
        Glibc.close(epollFD)
        readBuffer.deallocate()
        events.deallocate()
    }

    public var establishedConnections: Int { connections.count { $0.isConnected && !$0.isClosed } }

    // MARK: connecting

    /// Opens the plan's connections, at most `batch` handshakes at a time (a burst of thousands of
    /// SYNs would overflow the server's listen backlog, and each dropped SYN costs a 1 s retry).
    /// Stops opening more at the first socket(2) failure (EMFILE: our own fd limit) or when
    /// `stopAfterFailures` connects have failed. Returns how many are established.
    @discardableResult
    public func connect(batch: Int = 256, stopAfterFailures: Int = 1) -> Int {
        let deadline = Deadline.after(plan.connectTimeout)
        var opened = 0, pending = 0, failures = 0
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = plan.port.bigEndian
        address.sin_addr = plan.host

        while (opened < plan.connections && failures < stopAfterFailures) || pending > 0 {
            while pending < batch && opened < plan.connections && failures < stopAfterFailures {
                switch openConnection(index: connections.count, to: &address) {
                case .connected: opened += 1
                case .inProgress: opened += 1; pending += 1
                case .failed: failures += 1
                }
            }
            if deadline.hasPassed { break }
            let n = (try? sysEpollWait(epollFD, events, capacity: eventCapacity, timeoutMilliseconds: deadline.pollTimeout(cap: .milliseconds(100)))) ?? 0
            for i in 0..<n {
                let connection = connections[Int(events[i].data.u64)]
                guard !connection.isConnected, !connection.isClosed else { continue }
                pending -= 1
                let err = (try? sysSocketError(connection.fd)) ?? EBADF
                if err == 0 {
                    connection.isConnected = true
                    try? sysEpollControl(epollFD, CInt(EPOLL_CTL_MOD), connection.fd, events: EPOLLIN.rawValue, index: connection.index)
                } else {
                    note("connect: \(errnoName(err))")
                    connection.close()
                    failures += 1
                }
            }
        }
        for connection in connections where !connection.isConnected && !connection.isClosed {
            note("connect: no answer within \(plan.connectTimeout.readable)")
            connection.close()
        }
        return establishedConnections
    }

    private enum OpenOutcome { case connected, inProgress, failed }

    private func openConnection(index: Int, to address: inout sockaddr_in) -> OpenOutcome {
        let fd: CInt
        do { fd = try sysSocketTCP() } catch { note("\(error)"); return .failed }
        let connection = LoadConnection(fd: fd, index: index, pipeline: plan.pipeline)
        connections.append(connection)
        do {
            try sysSetNoDelay(fd)
            if !plan.sourceHosts.isEmpty { try sysBindSource(fd, plan.sourceHosts[index % plan.sourceHosts.count]) }
            let connected = try sysConnect(fd, to: address.sin_addr, port: plan.port)
            connection.isConnected = connected
            try sysEpollControl(epollFD, CInt(EPOLL_CTL_ADD), fd, events: connected ? EPOLLIN.rawValue : EPOLLOUT.rawValue, index: index)
            return connected ? .connected : .inProgress
        } catch {
            note("\(error)")
            connection.close()
            return .failed
        }
    }

    // MARK: running

    /// Runs ping-pong (or the plan's pipeline) on every established connection: `warmUp` unmeasured,
    /// then `measure` measured, with no pause between them. The requests still in flight at the end
    /// are left unanswered; close() ends them.
    public func run(warmUp: Duration, measure: Duration) -> LoadResult {
        for connection in live { connection.budget = .max }
        let measureStart = monotonicNanoseconds() + nanoseconds(warmUp)
        // The window is `measure` long from the moment recording really began (the loop notices the
        // warm-up's end a little late), so `elapsed` is never shorter than asked.
        var end = measureStart + nanoseconds(measure)
        startAll()
        loop(until: { now in
            if !self.recording && now >= measureStart {
                self.beginRecording(at: now)
                end = now + nanoseconds(measure)
            }
            return self.recording && now >= end
        }, deadline: { end })
        return endRecording()
    }

    /// Runs until every established connection has had `requestsPerConnection` round trips (or
    /// `timeout` passes), all of them measured. Ends quiescent: nothing in flight, unless timed out.
    public func run(requestsPerConnection: Int, timeout: Duration) -> LoadResult {
        for connection in live { connection.budget = requestsPerConnection }
        beginRecording(at: monotonicNanoseconds())
        let deadline = monotonicNanoseconds() + nanoseconds(timeout)
        startAll()
        loop(until: { _ in self.live.allSatisfy { $0.budget == 0 && $0.isIdle } }, deadline: { deadline })
        return endRecording()
    }

    public func close() {
        for connection in connections { connection.close() }
    }

    private var live: [LoadConnection] { connections.filter { $0.isConnected && !$0.isClosed } }

    private func startAll() {
        let now = monotonicNanoseconds()
        for connection in live { pump(connection, now: now) }
    }

    private func beginRecording(at now: UInt64) {
        result = LoadResult()
        result.connections = establishedConnections
        for connection in connections { connection.repliesInStretch = 0 }
        result.serverCPU = plan.serverPID.flatMap { try? ProcessStats.cpuTime(of: $0) }
        result.generatorCPU = threadCPUTime()
        recordingStart = now
        recording = true
    }

    private func endRecording() -> LoadResult {
        let now = monotonicNanoseconds()
        recording = false
        result.elapsed = .nanoseconds(Int64(now - recordingStart))
        result.generatorCPU = threadCPUTime() - result.generatorCPU
        if let pid = plan.serverPID, let before = result.serverCPU {
            result.serverCPU = (try? ProcessStats.cpuTime(of: pid)).map { $0 - before }
        }
        result.answeringConnections = connections.count { $0.repliesInStretch > 0 }
        return result
    }

    /// The event loop: waits, reads, checks, sends, until `done` says so or the deadline passes.
    private func loop(until done: (UInt64) -> Bool, deadline: () -> UInt64) {
        while true {
            let now = monotonicNanoseconds()
            if done(now) { return }
            let deadline = deadline()
            if now >= deadline { return }
            let waitMilliseconds = CInt(min(100, (deadline - now + 999_999) / 1_000_000))
            let n: Int
            do {
                n = try sysEpollWait(epollFD, events, capacity: eventCapacity, timeoutMilliseconds: waitMilliseconds)
            } catch {
                note("\(error)")
                return
            }
            let eventTime = monotonicNanoseconds()
            for i in 0..<n {
                let connection = connections[Int(events[i].data.u64)]
                guard !connection.isClosed else { continue }
                let flags = events[i].events
                if flags & (EPOLLIN.rawValue | EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 {
                    readOnce(connection, now: eventTime)
                }
                if !connection.isClosed && flags & EPOLLOUT.rawValue != 0 {
                    pump(connection, now: eventTime)
                }
            }
        }
    }

    /// One read per readiness event (level-triggered: more data means another event), then the
    /// requests the replies made room for.
    private func readOnce(_ connection: LoadConnection, now: UInt64) {
        let n = Glibc.read(connection.fd, readBuffer.baseAddress, readBuffer.count)
        if n < 0 {
            let err = errno
            if err == EAGAIN || err == EINTR { return }
            fail(connection, LoadError.closed(call: "read", errno: err))
            return
        }
        if n == 0 { fail(connection, LoadError.endOfStream); return }
        do {
            try connection.receive(UnsafeRawBufferPointer(rebasing: readBuffer[..<n]), frame: frame, pipeline: plan.pipeline, now: now) { latency in
                if recording {
                    result.replies += 1
                    result.replyBytes += UInt64(frame.bytes.count)
                    result.latency.record(nanoseconds: latency)
                }
            }
        } catch {
            fail(connection, error)
            return
        }
        pump(connection, now: now)
    }

    private func pump(_ connection: LoadConnection, now: UInt64) {
        do {
            let allSent = try connection.send(frame: &frame, pipeline: plan.pipeline, now: now)
            if allSent == connection.isWaitingForWritable {
                connection.isWaitingForWritable = !allSent
                try sysEpollControl(epollFD, CInt(EPOLL_CTL_MOD), connection.fd,
                                    events: EPOLLIN.rawValue | (allSent ? 0 : EPOLLOUT.rawValue), index: connection.index)
            }
        } catch {
            fail(connection, error)
        }
    }

    private func fail(_ connection: LoadConnection, _ error: Error) {
        if case LoadError.wrongReply = error { result.wrongReplies += 1 } else { result.closedByServer += 1 }
        note("\(error)")
        connection.close()
    }

    /// Keeps the first message of each kind (the text up to the first digit), so 500 identical
    /// failures make one line.
    private func note(_ message: String) {
        let kind = message.prefix { !$0.isNumber }
        if !firstErrors.contains(where: { $0.hasPrefix(kind) }) { firstErrors.append(message) }
    }
}

private func nanoseconds(_ duration: Duration) -> UInt64 {
    let (seconds, attoseconds) = duration.components
    return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
}
