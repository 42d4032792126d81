// ServerStats.swift: what the server counts as it goes, and the text msgid 2 (stats) answers with.
// v0.5: new.

/// The server's counters, reported by msgid 2 as `name value` lines (Redis's INFO style). A name, once
/// reported, is reported by every later stage with the same meaning; stages only add names (chapter 5
/// lists them). Loop thread only.
struct ServerStats {
    /// Connections accepted, admitted or refused.
    var connectionsTotal = 0
    /// Connections refused with `busy` because --max-connections were open.
    var connectionsRefused = 0
    /// Whole frames received (every one a request) and frames sent (replies, and the error frames that
    /// end a connection), with their bytes, headers included.
    var framesIn = 0, framesOut = 0
    var bytesIn = 0, bytesOut = 0
    /// Error frames sent, by code (indexed like ErrorCode.allCases).
    var errors = [Int](repeating: 0, count: ErrorCode.allCases.count)
    /// Requests by msgid; the last slot counts every msgid without a route.
    var requests = [Int](repeating: 0, count: Int(Router.highestMsgid) + 2)

    mutating func countError(_ code: ErrorCode) {
        errors[ErrorCode.allCases.firstIndex(of: code)!] += 1
    }

    /// The request counter of `msgid`: its own slot, or the shared one of unrouted msgids.
    static func requestSlot(_ msgid: UInt32, routed: Bool) -> Int {
        routed ? Int(msgid) : Int(Router.highestMsgid) + 1
    }

    /// The stats reply: one `name value` line each, in a fixed order.
    func report(connectionsOpen: Int, openFDs: Int, msgids: [UInt32], extra: [(String, Int)]) -> String {
        var lines: [(String, Int)] = [
            ("connections_open", connectionsOpen),
            ("connections_total", connectionsTotal),
            ("connections_refused", connectionsRefused),
            ("frames_in", framesIn),
            ("frames_out", framesOut),
            ("bytes_in", bytesIn),
            ("bytes_out", bytesOut),
        ]
        for (index, code) in ErrorCode.allCases.enumerated() {
            lines.append(("errors_" + code.rawValue.replacing("-", with: "_"), errors[index]))
        }
        for msgid in msgids { lines.append(("requests_msgid_\(msgid)", requests[Int(msgid)])) }
        lines.append(("requests_unknown_msgid", requests[Int(Router.highestMsgid) + 1]))
        lines.append(("fds_open", openFDs))
        lines += extra
        return lines.map { "\($0.0) \($0.1)\n" }.joined()
    }
}
