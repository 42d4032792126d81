// Report.swift: the checker's output: one line per behaviour, then "N passed, N failed".

public enum Report {
    /// `PASS  v0.2  frame-zero-length      a zero-length frame is echoed`; a failure adds
    /// `: <what went wrong>`, and its further lines (a server's last output) follow indented.
    public static func line(for result: BehaviourResult) -> String {
        let status = result.passed ? "PASS" : "FAIL"
        var text = "\(status)  \(columns(result.behaviour))"
        if let failure = result.failure { text += ": " + failure }
        for note in result.notes { text += "\n      note: " + note }
        return text
    }

    /// Exactly `N passed, N failed`.
    public static func summary(_ results: [BehaviourResult]) -> String {
        let passed = results.filter(\.passed).count
        return "\(passed) passed, \(results.count - passed) failed"
    }

    /// For --list: `v0.2  frame-zero-length      a zero-length frame is echoed`, plus a mark on the
    /// behaviours after which the server is restarted.
    public static func listing(_ behaviours: [Behaviour]) -> [String] {
        behaviours.map { columns($0) + ($0.damaging ? " [restarts the server]" : "") }
    }

    /// Stage and id padded to fixed widths, so that the summaries line up.
    private static func columns(_ behaviour: Behaviour) -> String {
        let idWidth = Ladder.behaviours.map(\.id.count).max() ?? 0
        return pad("v0.\(behaviour.stage)", 5) + " " + pad(behaviour.id, idWidth + 2) + " " + behaviour.summary
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }

    /// Prints `checker: <message>` on stderr (print(_:) only writes stdout).
    public static func printError(_ message: String) {
        sysWriteAll(2, Array("checker: \(message)\n".utf8))
    }
}
