// Report.swift: the checker's output: one line per behaviour, then "N passed, N failed".

public enum Report {
    /// `PASS  v0.2  frame-zero-length      a zero-length frame is echoed`; a failure adds
    /// `: <what went wrong>`, and its further lines (a server's last output) follow indented.
    /// A skipped behaviour reads `SKIP  ...: <why it could not run>`.
    public static func line(for result: BehaviourResult) -> String {
        let status = result.passed ? "PASS" : result.skipped ? "SKIP" : "FAIL"
        var text = "\(status)  \(columns(result.behaviour))"
        if let why = result.failure ?? result.skipReason { text += ": " + why }
        for note in result.notes { text += "\n      note: " + note }
        return text
    }

    /// Exactly `N passed, N failed`, and `, N skipped` only when something was skipped, so that
    /// the line stays the same for every run that could run everything.
    public static func summary(_ results: [BehaviourResult]) -> String {
        let passed = results.filter(\.passed).count
        let skipped = results.filter(\.skipped).count
        let failed = results.count - passed - skipped
        return "\(passed) passed, \(failed) failed" + (skipped > 0 ? ", \(skipped) skipped" : "")
    }

    /// For --list: `v0.2  frame-zero-length      a zero-length frame is echoed`, plus a mark on the
    /// behaviours after which the server is restarted, and on those that --connect cannot run.
    public static func listing(_ behaviours: [Behaviour]) -> [String] {
        behaviours.map { behaviour in
            var marks: [String] = []
            if behaviour.damaging { marks.append("restarts the server") }
            switch behaviour.needs {
            case .wire: break
            case .pid: marks.append("needs --server")
            case .fdLimit(let limit): marks.append("own server, ulimit -n \(limit); needs --server")
            case .flags(let flags): marks.append("own server, \(flags); needs --server")
            }
            return columns(behaviour) + marks.map { " [\($0)]" }.joined()
        }
    }

    /// Stage and id padded to fixed widths, so that the summaries line up.
    private static func columns(_ behaviour: Behaviour) -> String {
        let idWidth = Ladder.behaviours.map(\.id.count).max() ?? 0
        return pad("v0.\(behaviour.stage)", 5) + " " + pad(behaviour.id, idWidth + 2) + " " + behaviour.summary
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }
}
