// SystemSyscalls.swift: the rest of the tools' door to the kernel (Syscalls.swift holds the sockets,
// fds, pipes and processes): epoll, clocks, CPU affinity, the fd limit, binding a source address.
// The load generator and the bench use these; the same rules as in Syscalls.swift apply.
import CLinux
import Glibc

// MARK: epoll

package func sysEpollCreate() throws -> CInt {
    let fd = epoll_create1(CInt(EPOLL_CLOEXEC))
    if fd < 0 { throw SystemError(call: "epoll_create1", errno: errno) }
    return fd
}

/// epoll_ctl with the connection's index as the event's user data.
package func sysEpollControl(_ epollFD: CInt, _ operation: CInt, _ fd: CInt, events: UInt32, index: Int) throws {
    var event = epoll_event()
    event.events = events
    event.data.u64 = UInt64(index)
    if epoll_ctl(epollFD, operation, fd, &event) != 0 {
        throw SystemError(call: "epoll_ctl", errno: errno)
    }
}

/// epoll_wait; EINTR is "no events", since every caller loops and re-checks its deadline.
package func sysEpollWait(_ epollFD: CInt, _ events: UnsafeMutablePointer<epoll_event>, capacity: Int, timeoutMilliseconds: CInt) throws -> Int {
    let n = epoll_wait(epollFD, events, CInt(capacity), timeoutMilliseconds)
    if n >= 0 { return Int(n) }
    let err = errno
    if err == EINTR { return 0 }
    throw SystemError(call: "epoll_wait", errno: err)
}

// MARK: clocks

/// CLOCK_MONOTONIC in nanoseconds: the timestamp taken per request and per reply. clock_gettime on
/// this clock runs in user space (the vDSO), so it costs no system call.
@inlinable
package func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}

/// CPU time (user + system) the calling thread has used.
package func threadCPUTime() -> Duration {
    var used = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &used)
    return .seconds(used.tv_sec) + .nanoseconds(used.tv_nsec)
}

// MARK: processes

/// Pins process `pid` (0 = the caller) to one CPU. cpu_set_t is a bitmask whose CPU_SET macro Swift
/// cannot call, so the bit is set by hand: CPU n is bit n % 64 of word n / 64.
package func sysPinToCPU(_ pid: pid_t, cpu: Int) throws {
    var set = cpu_set_t()
    withUnsafeMutableBytes(of: &set) { bytes in
        let words = bytes.bindMemory(to: UInt.self)
        words[cpu / UInt.bitWidth] |= 1 << UInt(cpu % UInt.bitWidth)
    }
    if sched_setaffinity(pid, MemoryLayout<cpu_set_t>.size, &set) != 0 {
        throw SystemError(call: "sched_setaffinity", errno: errno)
    }
}

/// The CPUs online (sysconf(_SC_NPROCESSORS_ONLN)).
package func sysOnlineCPUs() -> Int { Int(sysconf(CInt(_SC_NPROCESSORS_ONLN))) }

/// RLIMIT_NOFILE: how many fds this process may open (soft), and how far it may raise that (hard).
package func sysFileLimit() -> (soft: Int, hard: Int) {
    var limit = rlimit()
    getrlimit(CInt(RLIMIT_NOFILE.rawValue), &limit)
    return (Int(clamping: limit.rlim_cur), Int(clamping: limit.rlim_max))
}

/// Raises the soft fd limit to the hard one. Processes started afterwards inherit it.
package func sysRaiseFileLimitToHard() throws {
    var limit = rlimit()
    getrlimit(CInt(RLIMIT_NOFILE.rawValue), &limit)
    limit.rlim_cur = limit.rlim_max
    if setrlimit(CInt(RLIMIT_NOFILE.rawValue), &limit) != 0 {
        throw SystemError(call: "setrlimit(RLIMIT_NOFILE)", errno: errno)
    }
}

// MARK: sockets

/// Binds a client socket to a local address before connect, leaving the port to connect(2):
/// IP_BIND_ADDRESS_NO_PORT (Linux 4.2) defers the port choice to connect, which may then reuse a
/// port another source address or server already uses. A plain bind to port 0 would take a port
/// that is free for every destination, and run out after the ephemeral range (about 28,000).
package func sysBindSource(_ fd: CInt, _ address: in_addr) throws {
    var on: CInt = 1
    let IP_BIND_ADDRESS_NO_PORT: CInt = 24   // <linux/in.h>; not exported by Swift's Glibc
    if setsockopt(fd, CInt(IPPROTO_IP), IP_BIND_ADDRESS_NO_PORT, &on, socklen_t(MemoryLayout<CInt>.size)) != 0 {
        throw SystemError(call: "setsockopt(IP_BIND_ADDRESS_NO_PORT)", errno: errno)
    }
    var sin = sockaddr_in()
    sin.sin_family = sa_family_t(AF_INET)
    sin.sin_addr = address
    let err = withUnsafePointer(to: &sin) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa -> CInt in
            Glibc.bind(fd, sa, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 ? 0 : errno
        }
    }
    if err != 0 { throw SystemError(call: "bind", errno: err) }
}
