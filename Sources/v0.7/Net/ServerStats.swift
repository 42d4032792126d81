// ServerStats.swift: what the server counts as it goes, and the text msgid 2 (stats) answers with.
// v0.5: new.
// v0.6: timeouts by kind (the report adds timers, loop lag and timeouts at its end).
// v0.7: the report as lines, which the loops of a threaded server add up (ServerWideStats.swift).

/// The server's counters, reported by msgid 2 as `name value` lines (Redis's INFO style). A name, once
/// reported, is reported by every later stage with the same meaning; stages only add names (chapter 5
/// lists them). Loop thread only.
///
/// The echo path updates as little as it can: one count per frame (in the Router's slot for its msgid)
/// and one per run of echoes (`echoBytes`). The rest is derived when stats are asked for: every frame
/// received is a request, and every echo request is also an echo frame sent. Counted on the echo path
/// one by one, frames and bytes in and out cost 19 of 175 instructions per round trip (make bench-instr 5).
struct ServerStats {
    /// Connections accepted, admitted or refused.
    var connectionsTotal = 0
    /// Connections refused with `busy` because --max-connections were open.
    var connectionsRefused = 0
    /// Bytes of echo frames, headers included: each came in and went out.
    var echoBytes = 0
    /// Bytes of the other frames received (requests), and of the other frames sent (replies, error frames).
    var otherBytesIn = 0, otherBytesOut = 0
    /// Frames sent that are not echoes: handlers' replies, and every error frame.
    var otherFramesOut = 0
    /// Connections closed by a timeout, by kind.
    var timeouts: [TimeoutKind: Int] = [:]
    /// Error frames sent, by code (indexed like ErrorCode.allCases).
    var errors = [Int](repeating: 0, count: ErrorCode.allCases.count)

    mutating func countError(_ code: ErrorCode) {
        errors[ErrorCode.allCases.firstIndex(of: code)!] += 1
    }

    /// The stats reply's lines, `name value` each, in a fixed order (`text` makes the reply of them).
    func report(router: borrowing Router, connectionsOpen: Int, openFDs: Int, extra: [(String, Int)]) -> [(String, Int)] {
        var lines: [(String, Int)] = [
            ("connections_open", connectionsOpen),
            ("connections_total", connectionsTotal),
            ("connections_refused", connectionsRefused),
            ("frames_in", router.requestsTotal),
            ("frames_out", router.requestsEchoed + otherFramesOut),
            ("bytes_in", echoBytes + otherBytesIn),
            ("bytes_out", echoBytes + otherBytesOut),
        ]
        for (index, code) in ErrorCode.allCases.enumerated() {
            lines.append(("errors_" + code.rawValue.replacing("-", with: "_"), errors[index]))
        }
        for msgid in router.msgids { lines.append(("requests_msgid_\(msgid)", router.requests(msgid))) }
        lines.append(("requests_unknown_msgid", router.requestsUnrouted))
        lines.append(("fds_open", openFDs))
        lines += extra
        return lines
    }

    static func text(_ lines: [(String, Int)]) -> String {
        lines.map { "\($0.0) \($0.1)\n" }.joined()
    }
}
