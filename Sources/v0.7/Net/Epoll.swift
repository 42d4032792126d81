// Epoll.swift: the kernel's readiness set: watch fds for "readable"/"writable", wait for what is ready.
// v0.3: new: Interest, register/modify/unregister, wait into a buffer allocated once.
// v0.5: Interest.peerHalfClosed (EPOLLRDHUP), for the closing state.
import CLinux
import Glibc

/// What a handler wants to hear about: the epoll bits of one fd's registration.
public struct Interest: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// EPOLLIN: bytes to read, a connection to accept, or the peer's FIN (a read returns 0).
    public static let readable = Interest(rawValue: EPOLLIN.rawValue)
    /// EPOLLOUT: room in the send buffer. Armed only while output is pending: an empty send buffer is
    /// "writable" nearly all the time, so a level-triggered EPOLLOUT left on wakes the loop for nothing.
    public static let writable = Interest(rawValue: EPOLLOUT.rawValue)
    /// EPOLLRDHUP: the peer has shut down its writing side (its FIN arrived). A closing connection
    /// watches it besides EPOLLIN, though the read that returns 0 is what it acts on: the point is that
    /// its interest then never equals `.readable` alone, the read path's one test (TCPConnection.handleEvent).
    public static let peerHalfClosed = Interest(rawValue: EPOLLRDHUP.rawValue)
    /// EPOLLET: report a change of readiness once (edge) instead of the state on every wait (level).
    public static let edgeTriggered = Interest(rawValue: EPOLLET.rawValue)
}

/// The event bits epoll reports. EPOLLERR and EPOLLHUP come whether asked for or not.
public enum EpollEvents {
    public static let readable = EPOLLIN.rawValue
    public static let writable = EPOLLOUT.rawValue
    /// An error is pending on the socket (RST received, ...): the next read or write reports it.
    public static let error = EPOLLERR.rawValue
    /// Both directions are shut: the peer reset, or both sides have closed.
    public static let hangUp = EPOLLHUP.rawValue
}

/// One epoll instance. Owns its fd (closed in deinit) and the event array `wait` fills. Loop thread only.
final class Epoll {
    let fd: CInt
    /// Filled by epoll_wait. Allocated once: building an [epoll_event] per wait showed up as the
    /// largest cost in the design's measurements (381 instructions per round trip instead of 111).
    private let events: UnsafeMutableBufferPointer<epoll_event>

    init(maxEventsPerWait: Int = 1024) throws {
        fd = try sysEpollCreate()
        events = .allocate(capacity: maxEventsPerWait)
    }

    deinit {
        sysClose(fd)
        events.deallocate()
    }

    /// Starts watching `fd`. `token` comes back with each of its events.
    func register(_ fd: CInt, interest: Interest, token: UInt64) throws {
        try sysEpollControl(self.fd, EPOLL_CTL_ADD, fd, events: interest.rawValue, data: token)
    }

    func modify(_ fd: CInt, interest: Interest, token: UInt64) throws {
        try sysEpollControl(self.fd, EPOLL_CTL_MOD, fd, events: interest.rawValue, data: token)
    }

    /// Stops watching `fd`. Do it before close(2): epoll watches the open file, not the number, and a
    /// dup of the fd (in a child process, say) would keep a closed number reporting events.
    func unregister(_ fd: CInt) throws {
        try sysEpollControl(self.fd, EPOLL_CTL_DEL, fd, events: 0, data: 0)
    }

    /// Waits up to `timeout` ms (-1: forever) and returns the ready events, valid until the next wait.
    func wait(timeout: CInt) throws -> UnsafeMutableBufferPointer<epoll_event> {
        let count = try sysEpollWait(fd, events, timeout: timeout)
        return UnsafeMutableBufferPointer(rebasing: events[..<count])
    }
}
