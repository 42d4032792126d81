// ServerOutput.swift: the server's stdout+stderr pipe, read without blocking, last lines kept.
import Glibc

/// The read end of the pipe a server writes its stdout and stderr into, and the last lines it
/// printed (for failure messages: "server exited with status 1; its last output: ...").
///
/// Owns `fd`; closes it exactly once in `close()`.
///
/// The pipe must be drained: once its buffer is full, the server blocks in its next log write and
/// stops serving, which would look like the server's bug. The runner drains it between behaviours;
/// the buffer is raised to 1 MiB so that one behaviour's worth of logging fits in between.
final class ServerOutput {
    /// How many lines failure messages show.
    static let keptLines = 30
    /// A "line" with no newline in sight is cut here, so a server printing binary junk costs
    /// bounded memory.
    static let maxLineBytes = 2048

    private var fd: CInt
    private var ring: [String] = []          // the last `keptLines` lines; `next` is the oldest
    private var next = 0
    private var partial: [UInt8] = []        // bytes after the last newline
    private let onLine: ((String) -> Void)?  // --verbose: show every line as it arrives

    /// True once the server (and everything it started) has closed its end of the pipe.
    private(set) var reachedEnd = false

    init(fd: CInt, onLine: ((String) -> Void)?) {
        self.fd = fd
        self.onLine = onLine
    }

    /// Reads what the pipe holds, waiting up to `timeoutMilliseconds` for the first byte, and
    /// returns the complete lines it finished. Never blocks past the timeout.
    func read(waitingUpTo timeoutMilliseconds: CInt) throws -> [String] {
        guard fd >= 0, !reachedEnd else { return [] }
        var lines: [String] = []
        if try sysPoll(fd, events: Int16(POLLIN), timeoutMilliseconds: timeoutMilliseconds) == 0 { return [] }
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        // At most a full pipe's worth per call: a server that logs as fast as we read must not
        // keep the checker in here forever.
        for _ in 0..<16 {
            let n = try chunk.withUnsafeMutableBytes { try sysRead(fd, into: $0) }
            guard let n else { break }       // EAGAIN: drained
            if n == 0 { reachedEnd = true; break }
            for byte in chunk[..<n] {
                if byte == UInt8(ascii: "\n") || partial.count >= ServerOutput.maxLineBytes {
                    lines.append(finishLine())
                    if byte == UInt8(ascii: "\n") { continue }
                }
                partial.append(byte)
            }
        }
        if reachedEnd && !partial.isEmpty { lines.append(finishLine()) }
        return lines
    }

    /// Reads everything available now, without waiting.
    func drain() {
        _ = try? read(waitingUpTo: 0)
    }

    /// The last lines, oldest first, each indented as a quote, for a failure message.
    var lastLines: String {
        let lines = Array(ring[next...] + ring[..<next]) + (partial.isEmpty ? [] : [String(decoding: partial, as: UTF8.self)])
        if lines.isEmpty { return "the server printed nothing" }
        return "its last output:\n" + lines.map { "    | " + $0 }.joined(separator: "\n")
    }

    func close() {
        if fd >= 0 { sysClose(fd) }
        fd = -1
    }

    private func finishLine() -> String {
        var line = String(decoding: partial, as: UTF8.self)   // invalid UTF-8 becomes U+FFFD, never a crash
        if line.hasSuffix("\r") { line.removeLast() }
        partial.removeAll(keepingCapacity: true)
        if ring.count < ServerOutput.keptLines {
            ring.append(line)
        } else {
            ring[next] = line
            next = (next + 1) % ServerOutput.keptLines
        }
        onLine?(line)
        return line
    }
}
