// Syscalls.swift: the tools' door to the kernel (checker, loadgen, bench): one thin wrapper per system call.
//
// Every wrapper reads errno on the statement right after the failing call (nothing may run in
// between that could overwrite it), retries EINTR itself, returns EAGAIN as `nil` (a non-blocking fd
// that has nothing to do is not an error) and throws SystemError naming the call for everything else.
// posix_spawn lives in Spawn.swift, which is about the child process, not about one call; epoll, clocks
// and limits in SystemSyscalls.swift.
import Glibc

// MARK: sockets

/// socket(2) for a TCP/IPv4 client. SOCK_NONBLOCK because every wait goes through poll(2) with a
/// deadline; SOCK_CLOEXEC so that a server spawned meanwhile (tests run in parallel) does not inherit
/// the checker's connections and keep them open after the checker closes them.
package func sysSocketTCP() throws -> CInt {
    let fd = Glibc.socket(AF_INET, CInt(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
    if fd < 0 { throw SystemError(call: "socket", errno: errno) }
    return fd
}

/// connect(2) on a non-blocking socket. Returns true if connected at once, false if the connection
/// is in progress (EINPROGRESS: wait for POLLOUT, then read SO_ERROR with `sysSocketError`).
/// EINTR also means "in progress": a connect that was interrupted carries on in the kernel, and
/// calling connect again would fail with EALREADY.
package func sysConnect(_ fd: CInt, to address: in_addr, port: UInt16) throws -> Bool {
    var sin = sockaddr_in()
    sin.sin_family = sa_family_t(AF_INET)
    sin.sin_port = port.bigEndian            // network byte order, like every field on the wire
    sin.sin_addr = address
    let (rc, err) = withUnsafePointer(to: &sin) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa -> (CInt, CInt) in
            let rc = Glibc.connect(fd, sa, socklen_t(MemoryLayout<sockaddr_in>.size))
            return (rc, rc == 0 ? 0 : errno)
        }
    }
    if rc == 0 { return true }
    if err == EINPROGRESS || err == EINTR { return false }
    throw SystemError(call: "connect", errno: err)
}

/// getsockopt(SO_ERROR): the outcome of a non-blocking connect once poll reports POLLOUT
/// (0 = connected, else the errno the connect failed with, e.g. ECONNREFUSED).
package func sysSocketError(_ fd: CInt) throws -> CInt {
    var value: CInt = 0
    var length = socklen_t(MemoryLayout<CInt>.size)
    if Glibc.getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) != 0 {
        throw SystemError(call: "getsockopt(SO_ERROR)", errno: errno)
    }
    return value
}

/// setsockopt(TCP_NODELAY): send each small write at once instead of letting Nagle's algorithm
/// gather them, so that one send(2) per byte really puts one byte per segment on the wire.
package func sysSetNoDelay(_ fd: CInt) throws {
    var on: CInt = 1
    if Glibc.setsockopt(fd, CInt(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<CInt>.size)) != 0 {
        throw SystemError(call: "setsockopt(TCP_NODELAY)", errno: errno)
    }
}

/// shutdown(SHUT_WR): sends FIN after whatever is already queued.
func sysShutdownWrite(_ fd: CInt) throws {
    if Glibc.shutdown(fd, CInt(SHUT_WR)) != 0 {
        throw SystemError(call: "shutdown(SHUT_WR)", errno: errno)
    }
}

/// send(2) with MSG_NOSIGNAL. Returns bytes sent (may be fewer than asked), or nil if the socket
/// buffer is full (EAGAIN). MSG_NOSIGNAL turns "peer has closed" into EPIPE instead of SIGPIPE,
/// which would kill the checker: a server that hangs up on us must give a FAIL line, not a crash.
package func sysSend(_ fd: CInt, _ bytes: UnsafeRawBufferPointer) throws -> Int? {
    while true {
        let n = Glibc.send(fd, bytes.baseAddress, bytes.count, CInt(MSG_NOSIGNAL))
        if n >= 0 { return n }
        let err = errno
        if err == EINTR { continue }
        if err == EAGAIN || err == EWOULDBLOCK { return nil }
        throw SystemError(call: "send", errno: err)
    }
}

/// setsockopt(SO_LINGER {on, 0 s}): the next close(2) sends RST instead of FIN and drops whatever
/// is unsent, the way a crashed or killed peer looks to the server.
func sysSetLingerZero(_ fd: CInt) throws {
    var value = linger(l_onoff: 1, l_linger: 0)
    if Glibc.setsockopt(fd, SOL_SOCKET, SO_LINGER, &value, socklen_t(MemoryLayout<linger>.size)) != 0 {
        throw SystemError(call: "setsockopt(SO_LINGER)", errno: errno)
    }
}

// MARK: any fd

/// read(2). Returns bytes read (0 = end of stream), or nil if a non-blocking fd has nothing to read
/// (EAGAIN). Retries EINTR.
package func sysRead(_ fd: CInt, into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
    while true {
        let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
        if n >= 0 { return n }
        let err = errno
        if err == EINTR { continue }
        if err == EAGAIN || err == EWOULDBLOCK { return nil }
        throw SystemError(call: "read", errno: err)
    }
}

/// write(2) of all of `bytes` to a blocking fd (the checker's own stderr), looping over short
/// writes. Errors are ignored: this is where error messages go, there is nowhere to report them.
package func sysWriteAll(_ fd: CInt, _ bytes: [UInt8]) {
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let rest = UnsafeRawBufferPointer(rebasing: buffer[offset...])
            let n = Glibc.write(fd, rest.baseAddress, rest.count)
            if n > 0 { offset += n; continue }
            if n < 0 && errno == EINTR { continue }
            return
        }
    }
}

/// poll(2) on one fd. Returns the revents (0 = timed out). EINTR also returns 0, "nothing yet":
/// the caller loops on its deadline anyway, and retrying here would restart the full timeout.
func sysPoll(_ fd: CInt, events: Int16, timeoutMilliseconds: CInt) throws -> Int16 {
    var entry = pollfd(fd: fd, events: events, revents: 0)
    let n = Glibc.poll(&entry, 1, timeoutMilliseconds)
    if n >= 0 { return n == 0 ? 0 : entry.revents }
    let err = errno
    if err == EINTR { return 0 }
    throw SystemError(call: "poll", errno: err)
}

/// poll(2) on many fds at once; each entry's revents is filled in. Returns how many entries have
/// events (0 = timed out). EINTR also returns 0, as in `sysPoll`.
package func sysPoll(_ entries: inout [pollfd], timeoutMilliseconds: CInt) throws -> Int {
    let n = Glibc.poll(&entries, nfds_t(entries.count), timeoutMilliseconds)
    if n >= 0 { return Int(n) }
    let err = errno
    if err == EINTR { return 0 }
    throw SystemError(call: "poll", errno: err)
}

/// close(2). Errors are ignored on purpose: on Linux the fd is released even when close reports
/// EINTR or EIO, so retrying could close an fd another thread has just been given.
package func sysClose(_ fd: CInt) {
    _ = Glibc.close(fd)
}

/// fcntl(F_SETFL, O_NONBLOCK).
package func sysSetNonBlocking(_ fd: CInt) throws {
    let flags = Glibc.fcntl(fd, F_GETFL)
    if flags < 0 { throw SystemError(call: "fcntl(F_GETFL)", errno: errno) }
    if Glibc.fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 { throw SystemError(call: "fcntl(F_SETFL)", errno: errno) }
}

// MARK: pipes and processes

/// pipe(2), both ends then marked close-on-exec, so that no child inherits them by accident.
///
/// PITFALL: pipe2(O_CLOEXEC), which sets the flag atomically, is not visible to Swift (glibc
/// declares it only for _GNU_SOURCE). Between pipe() and fcntl() another thread's posix_spawn could
/// pass both ends to its child, which would then hold our pipe open. Spawn.swift closes that window
/// by doing both under one lock.
func sysPipe() throws -> (read: CInt, write: CInt) {
    var fds: [CInt] = [-1, -1]
    if Glibc.pipe(&fds) != 0 { throw SystemError(call: "pipe", errno: errno) }
    for fd in fds where Glibc.fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 {
        let err = errno
        sysClose(fds[0])
        sysClose(fds[1])
        throw SystemError(call: "fcntl(F_SETFD)", errno: err)
    }
    return (fds[0], fds[1])
}

/// fcntl(F_SETPIPE_SZ): grow a pipe's buffer (64 KiB by default) so that a chatty child can log a
/// lot before it blocks on a write. Linux only; unprivileged processes are capped by
/// /proc/sys/fs/pipe-max-size (1 MiB by default), so callers treat failure as harmless.
func sysSetPipeSize(_ fd: CInt, bytes: CInt) throws {
    let F_SETPIPE_SZ: CInt = 1031            // <linux/fcntl.h>: F_LINUX_SPECIFIC_BASE + 7; not exported to Swift
    if Glibc.fcntl(fd, F_SETPIPE_SZ, bytes) < 0 { throw SystemError(call: "fcntl(F_SETPIPE_SZ)", errno: errno) }
}

/// kill(-group, signal): signal every process in a process group. Returns false if the group is
/// empty (ESRCH), which is not an error when stopping something that may have exited.
@discardableResult
func sysKillGroup(_ group: pid_t, _ signal: CInt) throws -> Bool {
    if Glibc.kill(-group, signal) == 0 { return true }
    let err = errno
    if err == ESRCH { return false }
    throw SystemError(call: "kill", errno: err)
}

/// waitid(WEXITED | WNOHANG | WNOWAIT): how `pid` ended, or nil if it is still running.
/// WNOWAIT leaves the child a zombie, unreaped. That is the point: while the zombie exists its pid,
/// which is also its process group's id, cannot be given to a new process, so a later
/// kill(-pid) can only reach what is left of our server's group.
func sysExitStatusIfExited(_ pid: pid_t) throws -> ExitStatus? {
    while true {
        var info = siginfo_t()               // zeroed: si_pid stays 0 if no child has changed state
        if Glibc.waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 {
            if info._sifields._sigchld.si_pid == 0 { return nil }
            let status = info._sifields._sigchld.si_status
            return info.si_code == CLD_EXITED ? .exited(status) : .killed(signal: status)
        }
        let err = errno
        if err == EINTR { continue }
        throw SystemError(call: "waitid", errno: err)
    }
}

/// waitpid(pid, 0): reap the child, blocking until it has exited. Call it after SIGKILL (or once
/// `sysExitStatusIfExited` has seen the exit), so that it returns promptly.
package func sysReap(_ pid: pid_t) throws {
    var status: CInt = 0
    while Glibc.waitpid(pid, &status, 0) < 0 {
        let err = errno
        if err == EINTR { continue }
        throw SystemError(call: "waitpid", errno: err)
    }
}

/// nanosleep(2) for `duration`, resuming after EINTR with the time that was left.
package func sysSleep(_ duration: Duration) {
    let (seconds, attoseconds) = duration.components
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
    var remaining = timespec()
    while Glibc.nanosleep(&request, &remaining) != 0 && errno == EINTR {
        request = remaining
    }
}

// MARK: /proc

/// The names in directory `path` (without "." and ".."): opendir, readdir until NULL, closedir.
/// For /proc/PID/fd, where each name is one open fd of that process.
package func sysListDirectory(_ path: String) throws -> [String] {
    guard let directory = Glibc.opendir(path) else { throw SystemError(call: "opendir(\(path))", errno: errno) }
    defer { Glibc.closedir(directory) }
    var names: [String] = []
    while let entry = Glibc.readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

/// readlink(2): where a symbolic link points, such as /proc/self/fd/7 -> `socket:[12345]`; nil if
/// `path` is not a link (or is gone).
package func sysReadLink(_ path: String) -> String? {
    var target = [CChar](repeating: 0, count: 4096)
    let n = Glibc.readlink(path, &target, target.count - 1)
    guard n >= 0 else { return nil }
    return String(decoding: target[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// The whole of a small file such as /proc/PID/stat, at most `limit` bytes. /proc files have no
/// size (stat says 0), so they are read until end of file.
package func sysReadSmallFile(_ path: String, limit: Int = 64 * 1024) throws -> [UInt8] {
    let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { throw SystemError(call: "open(\(path))", errno: errno) }
    defer { sysClose(fd) }
    var bytes = [UInt8](repeating: 0, count: limit)
    var count = 0
    while count < limit {
        let n = try bytes.withUnsafeMutableBytes { try sysRead(fd, into: UnsafeMutableRawBufferPointer(rebasing: $0[count...])) }
        guard let n, n > 0 else { break }    // nil (EAGAIN) cannot happen on a blocking fd; treat it as the end
        count += n
    }
    return Array(bytes[..<count])
}

/// sysconf(_SC_CLK_TCK): the unit of the CPU times in /proc/PID/stat ("clock ticks", 100 a second on
/// nearly every Linux, but that is not promised).
package func sysClockTicksPerSecond() -> Int {
    let ticks = Glibc.sysconf(CInt(_SC_CLK_TCK))
    return ticks > 0 ? ticks : 100
}

// MARK: addresses and signals

/// inet_pton(AF_INET): a dotted IPv4 address ("127.0.0.1") as the kernel wants it, or nil if `host`
/// is not one. No name lookup: the checker talks to loopback addresses a server printed.
package func sysParseIPv4(_ host: String) -> in_addr? {
    var address = in_addr()
    return Glibc.inet_pton(AF_INET, host, &address) == 1 ? address : nil
}

/// sigaction(2): run `handler` for each of `signals`. SA_RESETHAND puts the default action back
/// before the handler runs, so the handler can re-raise the signal to die of it as usual.
func sysOnSignals(_ signals: [CInt], _ handler: @convention(c) (CInt) -> Void) throws {
    var action: sigaction = .init()
    action.__sigaction_handler.sa_handler = handler
    action.sa_flags = CInt(bitPattern: UInt32(SA_RESETHAND))
    sigemptyset(&action.sa_mask)
    for signal in signals where sigaction(signal, &action, nil) != 0 {   // unqualified: `Glibc.sigaction` names the struct
        throw SystemError(call: "sigaction", errno: errno)
    }
}

/// For signal handlers only: kill(-group, signal) and raise(signal) are async-signal-safe, and
/// nothing here allocates or throws. Errors are ignored: there is no one left to tell.
func sysKillGroupFromSignalHandler(_ group: pid_t, _ signal: CInt) {
    _ = Glibc.kill(-group, signal)
}

func sysRaiseFromSignalHandler(_ signal: CInt) {
    _ = Glibc.raise(signal)
}
