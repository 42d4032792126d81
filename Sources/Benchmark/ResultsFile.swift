// ResultsFile.swift: bench/results.md, written by three commands. `make bench` writes the load table,
// `make bench-instr N` keeps one row per stage of instructions per round trip, `make bench-slow` writes
// the one-slow-request section at the end; each keeps the others' sections. Each section ends with a Mermaid bar chart drawn from its own table, so that a chart can
// never say what its table does not.

public enum ResultsFile {
    static let instructionsHeading = "## Instructions per round trip (make bench-instr N)"
    public static let slowHeading = "## One slow request (make bench-slow)"

    /// `file` with its one-slow-request section (from its heading to the end) replaced by `section`.
    public static func replacingSlowRequest(in file: String, with section: String) -> String {
        withCharts(trimmedEnd(slowSection(of: file).rest) + "\n\n" + section)
    }

    /// The file before the one-slow-request section, and that section ("" if none): always the last.
    static func slowSection(of file: String) -> (rest: String, slow: String) {
        guard let range = file.firstRange(of: slowHeading) else { return (file, "") }
        return (String(file[..<range.lowerBound]), String(file[range.lowerBound...]))
    }

    /// `file` with its load section (everything before the instructions section) replaced by `loads`.
    public static func replacingLoads(in file: String, with loads: String) -> String {
        let (rest, slow) = slowSection(of: file)
        return withCharts(loads + "\n" + sections(of: rest).instructions + (slow.isEmpty ? "" : "\n" + slow))
    }

    /// `file` with `server`'s row of instructions per round trip set (added, or replaced), and the C
    /// reference's row set to the figure of the same run.
    public static func replacingInstructions(in file: String, server: String, perRoundTrip: Double, reference: Double,
                                             referenceName: String) -> String {
        let (rest, slow) = slowSection(of: file)
        let (loads, old) = sections(of: rest)
        var rows: [String: String] = [:]
        for line in tableLines(of: old).dropFirst(2) {
            if let name = cells(of: line).first { rows[name] = line }
        }
        let c = decimal(reference, places: 1)
        rows[referenceName] = "| \(referenceName) | \(c) | \(c) | 1.00x |"
        rows[server] = "| \(server) | \(decimal(perRoundTrip, places: 1)) | \(c) | \(decimal(perRoundTrip / reference, places: 2))x |"
        // The C reference first, then the stages in order (v0.10 after v0.9).
        let order = rows.keys.sorted { a, b in
            if a == referenceName || b == referenceName { return a == referenceName && b != referenceName }
            return (Int(a.dropFirst(3)) ?? 0) < (Int(b.dropFirst(3)) ?? 0)
        }
        let section = """
        \(instructionsHeading)

        User-space instructions the server runs per echo round trip, counted by valgrind's callgrind (50 \
        connections, 64-byte ping-pong, 100 warm-up round trips each, then 200 counted). Each stage's row \
        is its latest `make bench-instr N`, beside the C reference measured in the same run; the C row is \
        the latest run's.

        | server | instructions per round trip | C reference, same run | ratio to C |
        |---|---:|---:|---:|

        """ + order.compactMap { rows[$0] }.joined(separator: "\n") + "\n"
        return withCharts(loads + "\n" + section + (slow.isEmpty ? "" : "\n" + slow))
    }

    /// `file` with its charts drawn again from its tables: QPS at 50 connections after the load
    /// section, instructions per round trip at the end of theirs. (`bench charts` runs this alone, for
    /// when the way charts are drawn changes.)
    public static func withCharts(_ file: String) -> String {
        let (rest, slow) = slowSection(of: withoutCharts(file))
        let (loads, instructions) = sections(of: rest)
        var text = trimmedEnd(loads) + "\n"
        if let chart = barChart(title: "QPS at 50 connections (median of the rounds)", axis: "replies per second",
                                table: loads, column: 2) {
            text += "\n" + chart
        }
        if !instructions.isEmpty {
            text += "\n" + trimmedEnd(instructions) + "\n"
            if let chart = barChart(title: "Instructions per round trip", axis: "instructions", table: instructions, column: 1) {
                text += "\n" + chart
            }
        }
        if !slow.isEmpty {
            text += "\n" + trimmedEnd(slow) + "\n"
            if let chart = barChart(title: "Echo p99 beside one client of slow requests (median of the rounds)", axis: "microseconds",
                                    table: slow, column: 1) {
                text += "\n" + chart
            }
        }
        return text
    }

    /// A Mermaid `xychart-beta` bar chart of one column of the first Markdown table in `text`: the first
    /// cell of each row names the bar, the number at the start of the cell is its height. nil if the
    /// table has no such numbers.
    static func barChart(title: String, axis: String, table text: String, column: Int) -> String? {
        var names: [String] = []
        var values: [String] = []
        for line in tableLines(of: text).dropFirst(2) {
            let row = cells(of: line)
            guard row.count > column else { continue }
            let number = row[column].prefix { $0.isNumber || $0 == "," || $0 == "." }.filter { $0 != "," }
            guard !number.isEmpty else { continue }
            names.append("\"\(row[0])\"")
            values.append(String(number))
        }
        guard !values.isEmpty else { return nil }
        return """
        ```mermaid
        xychart-beta
            title "\(title)"
            x-axis [\(names.joined(separator: ", "))]
            y-axis "\(axis)"
            bar [\(values.joined(separator: ", "))]
        ```

        """
    }

    /// The load section (before the instructions heading) and the instructions section ("" if none).
    static func sections(of file: String) -> (loads: String, instructions: String) {
        guard let range = file.firstRange(of: instructionsHeading) else { return (file, "") }
        return (String(file[..<range.lowerBound]), String(file[range.lowerBound...]))
    }

    static func withoutCharts(_ file: String) -> String {
        var kept: [Substring] = []
        var inChart = false
        for line in file.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "```mermaid" { inChart = true; continue }
            if inChart { if line == "```" { inChart = false }; continue }
            kept.append(line)
        }
        return kept.joined(separator: "\n")
    }

    /// The lines of the first Markdown table in `text`.
    static func tableLines(of text: String) -> [String] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return Array(lines.drop { !$0.hasPrefix("|") }.prefix { $0.hasPrefix("|") })
    }

    static func cells(of line: String) -> [String] {
        line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast().map {
            String(String($0.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()))
        }
    }

    static func trimmedEnd(_ text: String) -> String {
        String(String(text.reversed().drop { $0 == "\n" }).reversed())
    }
}
