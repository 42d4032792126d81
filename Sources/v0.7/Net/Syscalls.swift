// Syscalls.swift: one thin wrapper per system call; the only file that calls Glibc's socket API directly.
// v0.1: socket, setsockopt, bind, listen, accept, connect, read, write, shutdown, close, getsockname;
//       the errno policy: our own bugs (EBADF, EINVAL, ...) stop the program.
// v0.3: non-blocking: accept4, EAGAIN as nil from read/write/accept; epoll_create1, epoll_ctl, epoll_wait.
// v0.4: connect may answer EINPROGRESS (false: the handshake goes on); getsockopt(SO_ERROR); getpeername.
// v0.5: the open fd count, from /proc/self/fd (stats' fds_open).
// v0.6: timerfd, eventfd.
import CLinux
import Glibc

/// A failed system call: which call, and the errno it left behind.
public struct SystemError: Error, CustomStringConvertible {
    public let call: String
    public let errno: CInt

    public var description: String {
        "\(call): \(String(cString: strerror(errno))) (\(errnoName(errno)))"
    }
}

/// Runs `body` (one system call returning -1 on failure) and returns its result and errno (0 if it
/// succeeded).
/// PITFALL: errno belongs to whatever ran last, so it is read on the statement right after the call,
/// before anything else (a log line, an allocation) can overwrite it.
/// Guarded by: Tests/v0.N/SocketTests.swift "errno is read right after the call, before anything else".
/// EINTR means "a signal arrived before anything happened": the call is simply made again.
@inline(__always)
private func callRetryingEINTR<T: BinaryInteger>(_ call: String, _ body: () -> T) -> (result: T, errno: CInt) {
    while true {
        let result = body()
        if result != -1 { return (result, 0) }
        let err = errno
        if err == EINTR { continue }
        stopIfOurBug(call, err)
        return (result, err)
    }
}

/// A system call whose failure is an error: -1 becomes a thrown SystemError naming the call.
@inline(__always)
private func retryingEINTR<T: BinaryInteger>(_ call: String, _ body: () -> T) throws -> T {
    let (result, err) = callRetryingEINTR(call, body)
    if err != 0 { throw SystemError(call: call, errno: err) }
    return result
}

/// The same, except that EAGAIN comes back as nil. On a non-blocking socket "would block" is the
/// normal end of a read or write loop, not an error, so it costs no thrown error (EWOULDBLOCK is the
/// same number on Linux).
@inline(__always)
private func nilOnEAGAIN<T: BinaryInteger>(_ call: String, _ body: () -> T) throws -> T? {
    let (result, err) = callRetryingEINTR(call, body)
    if err == EAGAIN || err == EWOULDBLOCK { return nil }
    if err != 0 { throw SystemError(call: call, errno: err) }
    return result
}

/// The errno policy: which failures belong to the world, and which to us.
///
/// The peer or the system: ECONNRESET, EPIPE, ECONNREFUSED, EMFILE, ENOBUFS, ... are thrown; the caller
/// ends that one connection (or waits and tries again) and the server goes on. Our own code: EBADF (an
/// fd we already closed, or never had), EFAULT (a bad pointer), ENOTSOCK (an fd that is not a socket)
/// and EINVAL (an argument the call cannot take, such as accept on a socket that is not listening) mean
/// the program is wrong. Thrown like a peer's error, the caller would go on to close "its" fd number a
/// second time, and by then that number may belong to another client's connection. So the program
/// stops here, naming the call, as muduo's sockets::accept and SwiftNIO's syscall wrappers do.
/// PITFALL: an EBADF handled like an ECONNRESET hides a double close that hits someone else's fd.
/// Guarded by: Tests/v0.N/SocketTests.swift "a call on a closed fd stops the program".
@inline(never)
private func stopIfOurBug(_ call: String, _ err: CInt) {
    if err == EBADF || err == EFAULT || err == ENOTSOCK || err == EINVAL {
        preconditionFailure("\(call): \(errnoName(err)): a bug in this program, not a network event")
    }
}

/// socket(2): a new, unconnected socket of `type` (SOCK_STREAM: TCP) in `domain` (AF_INET: IPv4).
/// PITFALL: a child process inherits every fd not marked close-on-exec, so a socket of ours would live
/// on in a process we start (v0.8's workers, v0.10's backends): closing our end would then not close
/// the connection. SOCK_CLOEXEC marks it in the same call; an fcntl afterwards leaves a moment in which
/// another thread's spawn takes the fd along.
/// Guarded by: Tests/v0.N/SocketTests.swift "a spawned child inherits none of our sockets".
func sysSocket(_ domain: CInt, _ type: CInt) throws -> CInt {
    try retryingEINTR("socket") { Glibc.socket(domain, type | CInt(SOCK_CLOEXEC.rawValue), 0) }
}

/// setsockopt(2) for an integer option (SO_REUSEADDR, TCP_NODELAY, ...).
func sysSetIntOption(_ fd: CInt, _ level: CInt, _ option: CInt, _ value: CInt) throws {
    var value = value
    _ = try retryingEINTR("setsockopt") {
        Glibc.setsockopt(fd, level, option, &value, socklen_t(MemoryLayout<CInt>.size))
    }
}

/// bind(2). EADDRINUSE here is the "busy port" every server must report in one clear line.
func sysBind(_ fd: CInt, _ address: SocketAddress) throws {
    _ = try retryingEINTR("bind") { address.withSockAddr { Glibc.bind(fd, $0, $1) } }
}

/// listen(2). `backlog` bounds the queue of connections the kernel has accepted for us but we have not
/// yet taken with accept(2).
func sysListen(_ fd: CInt, _ backlog: CInt) throws {
    _ = try retryingEINTR("listen") { Glibc.listen(fd, backlog) }
}

/// accept4(2) into a sockaddr_storage: big enough for any address family, so the kernel never truncates.
/// SOCK_CLOEXEC: the new socket is close-on-exec from its first moment, as sysSocket's are.
/// SOCK_NONBLOCK makes the new socket non-blocking in the same call (no fcntl afterwards).
/// Returns nil when no connection is waiting (EAGAIN on a non-blocking listener).
/// Expected errors: those of isTransientAcceptError are retried like EINTR; EMFILE (out of file
/// descriptors), ENOBUFS and ENOMEM (out of memory) are thrown for the caller to decide; the errno
/// policy's bugs stop the program.
func sysAccept(_ fd: CInt) throws -> (CInt, sockaddr_storage)? {
    var storage = sockaddr_storage()
    while true {
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let client = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                CLinux.accept4(fd, $0, &length, CInt(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue))
            }
        }
        if client >= 0 { return (client, storage) }
        let err = errno
        if err == EINTR || isTransientAcceptError(err) { continue }
        if err == EAGAIN || err == EWOULDBLOCK { return nil }
        stopIfOurBug("accept", err)
        throw SystemError(call: "accept", errno: err)
    }
}

/// accept(2)'s failures that end only the connection being taken, not the listener: take the next one.
/// PITFALL: thrown as the listener's failure, one client's trouble would reach every client.
/// ECONNABORTED: the peer gave up while it waited in the backlog. The rest are network errors Linux
/// passes on from the new connection (accept(2), "Error handling"), and EPERM, a firewall rule.
/// Guarded by: Tests/v0.N/SocketTests.swift "accept retries the errors of one connection".
func isTransientAcceptError(_ err: CInt) -> Bool {
    switch err {
    case ECONNABORTED, EPROTO, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH, EPERM:
        return true
    default:
        return false
    }
}

/// connect(2). On a blocking socket it returns once the handshake is done (true), or throws
/// (ECONNREFUSED, ...). On a non-blocking socket it usually returns false at once: EINPROGRESS, the
/// handshake goes on in the kernel, and the socket becomes writable when it ends. Its result is then
/// read with sysSocketError. (It may also succeed at once, true; Linux TCP does not, but the caller
/// must handle it.)
/// EINTR is NOT retried: a connect interrupted by a signal goes on in the kernel, and calling it again
/// is not portable (POSIX allows EALREADY, and EISCONN once done; Linux waits again, or returns 0 if
/// the handshake ended meanwhile). Treated like EINPROGRESS, it is waited for the same way: writable, then SO_ERROR.
func sysConnect(_ fd: CInt, _ address: SocketAddress) throws -> Bool {
    let result = address.withSockAddr { Glibc.connect(fd, $0, $1) }
    if result == 0 { return true }
    let err = errno
    if err == EINPROGRESS || err == EINTR { return false }
    stopIfOurBug("connect", err)
    throw SystemError(call: "connect", errno: err)
}

/// getsockopt(SO_ERROR): the error a non-blocking connect ended with (0: connected), cleared by reading.
func sysSocketError(_ fd: CInt) throws -> CInt {
    var error: CInt = 0
    var length = socklen_t(MemoryLayout<CInt>.size)
    _ = try retryingEINTR("getsockopt") { Glibc.getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) }
    return error
}

/// read(2). Returns the number of bytes read; 0 means the peer closed its side (end of stream);
/// nil means a non-blocking socket has nothing to read right now (EAGAIN): try again when epoll says.
@inline(__always)
func sysRead(_ fd: CInt, into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
    try nilOnEAGAIN("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
}

/// write(2). Returns how many bytes the kernel took, which may be fewer than asked: see Socket.writeAll;
/// nil means a non-blocking socket's send buffer is full (EAGAIN): try again when epoll says.
/// Writing to a peer that has gone raises SIGPIPE, which would kill the process; servers ignore it
/// (ignoreSIGPIPE) and get EPIPE here instead.
@inline(__always)
func sysWrite(_ fd: CInt, from buffer: UnsafeRawBufferPointer) throws -> Int? {
    try nilOnEAGAIN("write") { Glibc.write(fd, buffer.baseAddress, buffer.count) }
}

/// epoll_create1(2) with EPOLL_CLOEXEC: a new epoll instance, the kernel's set of watched fds.
func sysEpollCreate() throws -> CInt {
    try retryingEINTR("epoll_create1") { CLinux.epoll_create1(CInt(EPOLL_CLOEXEC)) }
}

/// timerfd_create(2) on CLOCK_BOOTTIME, the clock Swift's ContinuousClock reads on Linux: the loop's
/// deadlines and the timer that wakes it count the same time (suspended time included).
func sysTimerFDCreate() throws -> CInt {
    try retryingEINTR("timerfd_create") { CLinux.timerfd_create(CLOCK_BOOTTIME, CInt(TFD_NONBLOCK | TFD_CLOEXEC)) }
}

/// timerfd_settime(2), relative: the timer fires once, `delay` from now; nil disarms it. (A zero
/// it_value disarms too, so a deadline already past is armed 1 ns ahead.)
func sysTimerFDArm(_ fd: CInt, after delay: Duration?) throws {
    var spec = itimerspec()
    if let delay {
        let (seconds, attoseconds) = max(delay, .nanoseconds(1)).components
        spec.it_value = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        if spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0 { spec.it_value.tv_nsec = 1 }
    }
    _ = try retryingEINTR("timerfd_settime") { CLinux.timerfd_settime(fd, 0, &spec, nil) }
}

/// eventfd(2): a counter another thread can add to (write) to wake the loop (it becomes readable).
func sysEventFDCreate() throws -> CInt {
    try retryingEINTR("eventfd") { CLinux.eventfd(0, CInt(EFD_NONBLOCK | EFD_CLOEXEC)) }
}

/// Reads the 8-byte counter of an eventfd or timerfd (resetting an eventfd's to 0); nil if it was 0.
func sysReadCounter(_ fd: CInt) throws -> UInt64? {
    var value: UInt64 = 0
    return try withUnsafeMutableBytes(of: &value) { try sysRead(fd, into: $0) }.map { _ in value }
}

/// Adds 1 to an eventfd's counter. EAGAIN (the counter at its maximum) cannot happen with one wakeup
/// pending at a time, and would still leave the fd readable.
func sysWakeEventFD(_ fd: CInt) {
    var one: UInt64 = 1
    _ = withUnsafeBytes(of: &one) { try? sysWrite(fd, from: $0) }
}

/// epoll_ctl(2): add (EPOLL_CTL_ADD), change (EPOLL_CTL_MOD) or remove (EPOLL_CTL_DEL) `fd`'s entry.
/// `data` comes back with each event for `fd`: we put the fd and a generation number in it.
/// Errors: ENOMEM and ENOSPC (the kernel's memory, or the per-user limit of watched fds) are thrown,
/// and the caller ends that one connection. Any other (EEXIST, ENOENT, EPERM, and the policy's EBADF
/// and EINVAL) means the loop's table and the kernel's disagree about an fd: the program stops.
func sysEpollControl(_ epfd: CInt, _ operation: CInt, _ fd: CInt, events: UInt32, data: UInt64) throws {
    var event = epoll_event()
    event.events = events
    event.data.u64 = data
    let (_, err) = callRetryingEINTR("epoll_ctl") { CLinux.epoll_ctl(epfd, operation, fd, &event) }
    if err == 0 { return }
    if err == ENOMEM || err == ENOSPC { throw SystemError(call: "epoll_ctl", errno: err) }
    preconditionFailure("epoll_ctl: \(errnoName(err)): a bug in this program, not a network event")
}

/// epoll_wait(2): blocks until at least one watched fd is ready, or `timeout` ms pass (-1: forever),
/// and fills `events`. Returns how many were filled. EINTR counts as zero events (ae does the same):
/// the caller's loop simply waits again.
func sysEpollWait(_ epfd: CInt, _ events: UnsafeMutableBufferPointer<epoll_event>, timeout: CInt) throws -> Int {
    let count = CLinux.epoll_wait(epfd, events.baseAddress, CInt(events.count), timeout)
    if count >= 0 { return Int(count) }
    let err = errno
    if err == EINTR { return 0 }
    throw SystemError(call: "epoll_wait", errno: err)
}

/// open(2) read-only: the spare descriptor the Acceptor keeps for the EMFILE trick.
func sysOpenReadOnly(_ path: String) throws -> CInt {
    try retryingEINTR("open") { Glibc.open(path, O_RDONLY | O_CLOEXEC) }
}

/// fcntl(F_SETFL, O_NONBLOCK): calls on the fd return EAGAIN instead of waiting.
func sysSetNonBlocking(_ fd: CInt) throws {
    let flags = try retryingEINTR("fcntl") { Glibc.fcntl(fd, F_GETFL) }
    _ = try retryingEINTR("fcntl") { Glibc.fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
}

/// shutdown(2): SHUT_WR sends FIN (end of stream) but keeps reading what the peer still sends.
func sysShutdown(_ fd: CInt, _ how: CInt) throws {
    _ = try retryingEINTR("shutdown") { Glibc.shutdown(fd, how) }
}

/// How many fds this process has open: the entries of /proc/self/fd (opendir, readdir, closedir),
/// less the one opendir itself holds while it reads. For stats' `fds_open`; nil if /proc is missing.
func sysOpenFDCount() -> Int? {
    guard let directory = Glibc.opendir("/proc/self/fd") else { return nil }
    defer { Glibc.closedir(directory) }
    var count = 0
    while let entry = Glibc.readdir(directory) {
        if entry.pointee.d_name.0 != CChar(bitPattern: UInt8(ascii: ".")) { count += 1 }
    }
    return count - 1
}

/// getsockname(2): which address the kernel gave us (the real port after binding port 0).
func sysLocalAddress(_ fd: CInt) throws -> sockaddr_storage {
    try socketAddress(of: fd, "getsockname", Glibc.getsockname)
}

/// getpeername(2): the address of the other end of a connected socket.
func sysPeerAddress(_ fd: CInt) throws -> sockaddr_storage {
    try socketAddress(of: fd, "getpeername", Glibc.getpeername)
}

/// getsockname and getpeername take the same arguments: an fd, a sockaddr to fill, its length.
private func socketAddress(of fd: CInt, _ call: String,
                           _ get: (CInt, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> CInt) throws -> sockaddr_storage {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    _ = try retryingEINTR(call) {
        withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { get(fd, $0, &length) }
        }
    }
    return storage
}

/// close(2). Not retried on EINTR: Linux has already released the fd, and retrying could close a
/// descriptor another part of the program just opened with the same number. EBADF means this fd was
/// closed before: the errno policy stops the program.
func sysClose(_ fd: CInt) {
    if Glibc.close(fd) == -1 {
        let err = errno
        if err == EBADF { stopIfOurBug("close", err) }
    }
}

/// write(2) of all of `bytes` to stdout or stderr, for log lines. Errors are ignored on purpose, and
/// not stopped on: a server started with its output closed (EBADF) or piped into a program that has
/// exited (EPIPE) goes on serving; there is nowhere to report them anyway.
func sysWriteLogLine(_ fd: CInt, _ bytes: UnsafeRawBufferPointer) {
    var offset = 0
    while offset < bytes.count {
        let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
        if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { return }
    }
}

/// Ignore SIGPIPE for the whole process.
/// PITFALL: SIGPIPE's default action kills us, silently, the moment we write to a peer that has
/// closed; ignored, that write fails with EPIPE and only that connection is dropped.
/// Guarded by: the ladder's unread-echo-close (make check 1).
public func ignoreSIGPIPE() {
    _ = Glibc.signal(SIGPIPE, SIG_IGN)
}

/// The symbolic name of the errnos a network program meets, for error lines a learner can search for.
func errnoName(_ err: CInt) -> String {
    switch err {
    case EADDRINUSE: return "EADDRINUSE"
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL"
    case EACCES: return "EACCES"
    case ECONNREFUSED: return "ECONNREFUSED"
    case ECONNRESET: return "ECONNRESET"
    case ECONNABORTED: return "ECONNABORTED"
    case EPIPE: return "EPIPE"
    case ETIMEDOUT: return "ETIMEDOUT"
    case ENETUNREACH: return "ENETUNREACH"
    case EHOSTUNREACH: return "EHOSTUNREACH"
    case EMFILE: return "EMFILE"
    case ENFILE: return "ENFILE"
    case EINVAL: return "EINVAL"
    case EBADF: return "EBADF"
    case EAGAIN: return "EAGAIN"
    case EINPROGRESS: return "EINPROGRESS"
    case EFAULT: return "EFAULT"
    case ENOTSOCK: return "ENOTSOCK"
    case ENOBUFS: return "ENOBUFS"
    case ENOMEM: return "ENOMEM"
    default: return "errno \(err)"
    }
}
