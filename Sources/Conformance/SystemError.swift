// SystemError.swift: a failed system call, named with its errno (ECONNREFUSED, not "error 111").
import Glibc

/// A system call that failed: the call's name and the errno it left, read right after the call.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    public let call: String
    public let errno: CInt

    package init(call: String, errno: CInt) {
        self.call = call
        self.errno = errno
    }

    /// For example `connect: ECONNREFUSED (Connection refused)`.
    public var description: String { "\(call): \(errnoName(errno))" }
}

/// `ECONNREFUSED (Connection refused)`: the symbolic name a learner can grep the man pages for, then
/// the C library's text. Glibc's `strerrorname_np` is not visible to Swift, hence the table: it lists
/// the errnos a network client or a child process can meet; any other shows as `errno N`.
public func errnoName(_ code: CInt) -> String {
    let names: [CInt: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", ESRCH: "ESRCH", EINTR: "EINTR", EIO: "EIO", EBADF: "EBADF",
        ECHILD: "ECHILD", EAGAIN: "EAGAIN", ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT",
        EINVAL: "EINVAL", ENFILE: "ENFILE", EMFILE: "EMFILE", EPIPE: "EPIPE", ENOTSOCK: "ENOTSOCK",
        EADDRINUSE: "EADDRINUSE", EADDRNOTAVAIL: "EADDRNOTAVAIL", ENETDOWN: "ENETDOWN",
        ENETUNREACH: "ENETUNREACH", ECONNABORTED: "ECONNABORTED", ECONNRESET: "ECONNRESET",
        ENOBUFS: "ENOBUFS", EISCONN: "EISCONN", ENOTCONN: "ENOTCONN", ETIMEDOUT: "ETIMEDOUT",
        ECONNREFUSED: "ECONNREFUSED", EHOSTUNREACH: "EHOSTUNREACH", EALREADY: "EALREADY",
        EINPROGRESS: "EINPROGRESS",
    ]
    let text = String(cString: strerror(code))
    guard let name = names[code] else { return "errno \(code) (\(text))" }
    return "\(name) (\(text))"
}
