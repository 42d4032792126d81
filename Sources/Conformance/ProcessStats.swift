// ProcessStats.swift: what /proc says about the server process: open fds, CPU time, resident memory.
import Glibc

/// Readings of /proc/PID for a server the checker started (under --connect there is no pid, and the
/// behaviours that need one are skipped). Each reading is one snapshot; behaviours compare two.
///
/// A failed read (the process has exited, so /proc/PID is gone) is a CheckFailure that says so;
/// the runner then also reports the server's exit status.
package enum ProcessStats {
    /// How many fds the process has open: the entries of /proc/PID/fd (listener, epoll, clients...).
    package static func openFileCount(of pid: pid_t) throws -> Int {
        try read("/proc/\(pid)/fd") { try sysListDirectory($0).count }
    }

    /// How many listening TCP sockets the process holds: its fds that are sockets (/proc/PID/fd links
    /// `socket:[INODE]`) whose inode /proc/PID/net/tcp lists in state 0A (LISTEN). Asking the process
    /// itself, not connecting to its port: another process may have been given that port since.
    package static func listeningSocketCount(of pid: pid_t) throws -> Int {
        let inodes = try read("/proc/\(pid)/fd") { directory in
            Set(try sysListDirectory(directory).compactMap { sysReadLink(directory + "/" + $0) }
                .filter { $0.hasPrefix("socket:[") }.map { String($0.dropFirst(8).dropLast()) })
        }
        let table = try read("/proc/\(pid)/net/tcp") { String(decoding: try sysReadSmallFile($0, limit: 1 << 22), as: UTF8.self) }
        // Each line after the header: "sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...".
        return table.split(separator: "\n").dropFirst().filter { line in
            let fields = line.split(separator: " ")
            return fields.count > 9 && fields[3] == "0A" && inodes.contains(String(fields[9]))
        }.count
    }

    /// The lines of /proc/net/tcp (every IPv4 TCP socket of this network namespace) whose local port is
    /// `port`: what a test prints when a bind or connect surprises it. Column `st` is the state: 06
    /// TIME_WAIT, 0A LISTEN, 01 ESTABLISHED.
    package static func tcpSockets(onPort port: UInt16) -> [String] {
        guard let bytes = try? sysReadSmallFile("/proc/net/tcp", limit: 1 << 22) else { return ["(/proc/net/tcp unreadable)"] }
        let hex = String(port, radix: 16, uppercase: true)
        let suffix = ":" + String(repeating: "0", count: 4 - hex.count) + hex     // "0100007F:ACA5"
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").dropFirst().filter { line in
            let fields = line.split(separator: " ")
            return fields.count > 1 && fields[1].hasSuffix(suffix)
        }.map(String.init)
    }

    /// User plus system CPU time used so far: fields 14 and 15 (utime, stime) of /proc/PID/stat, in
    /// clock ticks (10 ms each on most machines, so only differences over 100s of ms mean much).
    package static func cpuTime(of pid: pid_t) throws -> Duration {
        let stat = try read("/proc/\(pid)/stat") { String(decoding: try sysReadSmallFile($0), as: UTF8.self) }
        // "pid (comm) state ppid ...": comm may hold spaces and ')', so count fields after the last ')'.
        // Field 3 (state) is then index 0, so field 14 (utime) is index 11 and 15 (stime) index 12.
        guard let close = stat.lastIndex(of: ")") else { throw CheckFailure("/proc/\(pid)/stat is not what Linux writes: \(stat.prefix(80))") }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else {
            throw CheckFailure("/proc/\(pid)/stat has no utime/stime fields: \(stat.prefix(80))")
        }
        return .milliseconds((user + system) * 1000 / sysClockTicksPerSecond())
    }

    /// Resident memory in bytes: the `VmRSS:   1234 kB` line of /proc/PID/status.
    package static func residentBytes(of pid: pid_t) throws -> Int {
        let status = try read("/proc/\(pid)/status") { String(decoding: try sysReadSmallFile($0), as: UTF8.self) }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if words.count >= 2, let kilobytes = Int(words[1]) { return kilobytes * 1024 }
        }
        throw CheckFailure("/proc/\(pid)/status has no VmRSS line")
    }

    /// Runs `body` on `path`, turning a SystemError into a CheckFailure a learner can act on.
    private static func read<T>(_ path: String, _ body: (String) throws -> T) throws -> T {
        do {
            return try body(path)
        } catch let error as SystemError {
            let hint = error.errno == ENOENT ? " (has the server exited?)" : ""
            throw CheckFailure("cannot read \(path): \(error)\(hint)")
        }
    }
}

/// `5.1 MiB`: how messages show a memory size.
package func mebibytes(_ bytes: Int) -> String {
    let tenths = bytes * 10 / (1 << 20)
    return "\(tenths / 10).\(abs(tenths % 10)) MiB"
}
