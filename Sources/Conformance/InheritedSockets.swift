// InheritedSockets.swift: which of our sockets a child process would inherit (the close-on-exec tests).
import Glibc

/// Spawns `/bin/sleep 30` with a plain posix_spawn, as a careless server would: no file actions, so
/// the child keeps every fd not marked close-on-exec. Reads which sockets it holds from /proc/PID/fd,
/// kills and reaps it, and returns those of `fds` (sockets of this process) whose socket is among
/// them: [] when every one of them is close-on-exec.
///
/// Sockets are told apart by inode (`socket:[12345]`), not by fd number, so a socket another test
/// leaked into the same child cannot be mistaken for one of ours.
package func socketsInheritedByAChild(_ fds: [CInt]) throws -> [CInt] {
    let ours = try fds.map { fd -> (CInt, String) in
        guard let target = sysReadLink("/proc/self/fd/\(fd)"), target.hasPrefix("socket:") else {
            throw CheckFailure("fd \(fd) is not an open socket")
        }
        return (fd, target)
    }
    let arguments = ["/bin/sleep", "30"]
    let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    defer { for argument in argv { free(argument) } }
    var pid: pid_t = 0
    // posix_spawn returns once the child has exec'd (glibc waits for it), so the close-on-exec fds
    // are already gone when /proc is read.
    let err = posix_spawn(&pid, "/bin/sleep", nil, nil, argv, environ)
    guard err == 0 else { throw SystemError(call: "posix_spawn", errno: err) }
    defer {
        _ = kill(pid, SIGKILL)
        try? sysReap(pid)
    }
    let held = Set(try sysListDirectory("/proc/\(pid)/fd").compactMap { sysReadLink("/proc/\(pid)/fd/\($0)") })
    return ours.filter { held.contains($0.1) }.map(\.0)
}
