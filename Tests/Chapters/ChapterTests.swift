// ChapterTests.swift: the chapters quote the code as it is: every Swift excerpt, every `make diff`
// diffstat and every reading order is checked against the files, so a change that makes a chapter
// wrong fails `make test` instead of misleading a learner.
import Conformance
import Testing

/// The repository's root, found from this file's own path (Tests/Chapters/ChapterTests.swift).
let repositoryRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

/// The chapters' README files, chapters/NN-name/README.md, in order.
func chapterFiles() throws -> [String] {
    try sysListDirectory(repositoryRoot + "/chapters").sorted()
        .filter { $0.first?.isNumber == true }
        .map { "chapters/\($0)/README.md" }
}

func readText(_ path: String) throws -> String {
    String(decoding: try sysReadSmallFile(repositoryRoot + "/" + path, limit: 4 << 20), as: UTF8.self)
}

/// One fenced block of a chapter: its info string (`swift`), its lines, the line it starts on, and
/// the line just before its opening fence (where a `<!-- make diff N: stat -->` marker goes).
struct FencedBlock {
    let info: String
    let lines: [String]
    let startLine: Int
    let lineBefore: String
}

func fencedBlocks(in text: String) -> [FencedBlock] {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    var blocks: [FencedBlock] = []
    var index = 0
    while index < lines.count {
        let line = lines[index]
        if line.hasPrefix("```") {
            let info = String(line.dropFirst(3)).trimmingSpaces
            var end = index + 1
            while end < lines.count && !lines[end].hasPrefix("```") { end += 1 }
            blocks.append(FencedBlock(info: info, lines: Array(lines[(index + 1)..<min(end, lines.count)]),
                                      startLine: index + 1, lineBefore: index > 0 ? lines[index - 1] : ""))
            index = end + 1
        } else {
            index += 1
        }
    }
    return blocks
}

/// Checks one Swift excerpt against its file. The first line names the file (and, after a comma,
/// what the excerpt shows: `// Sources/v0.3/Net/EventLoop.swift, EventLoop.runOnce(timeout:)`); a line
/// `// ...` stands for lines left out. Every run of lines between those must stand in the file as it
/// is, indentation included, and the runs in the same order. Returns nil if it does, else what is wrong.
func excerptProblem(_ block: FencedBlock) throws -> String? {
    guard let first = block.lines.first, first.hasPrefix("// ") else {
        return "the excerpt's first line must name its file: `// Sources/v0.N/...swift, Type.function`"
    }
    let path = String(first.dropFirst(3).prefix { $0 != "," && $0 != " " })
    let file: [String]
    do {
        file = try readText(path).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    } catch {
        return "it names \(path), which cannot be read (\(error))"
    }
    var runs: [[String]] = [[]]
    for line in block.lines.dropFirst() {
        if line.trimmingSpaces == "// ..." { runs.append([]) } else { runs[runs.count - 1].append(line) }
    }
    var searchFrom = 0
    for run in runs where !run.isEmpty {
        guard let found = firstIndex(of: run, in: file, from: searchFrom) else {
            let best = longestPrefixMatch(of: run, in: file, from: searchFrom)
            return "\(path) no longer has these lines as quoted; the first that differs is: \(run[best].trimmingSpaces)"
        }
        searchFrom = found + run.count
    }
    return nil
}

func firstIndex(of run: [String], in file: [String], from start: Int) -> Int? {
    guard run.count <= file.count else { return nil }
    var index = start
    while index + run.count <= file.count {
        if Array(file[index..<(index + run.count)]) == run { return index }
        index += 1
    }
    return nil
}

/// How many of `run`'s first lines match somewhere in `file` (to say which line went wrong).
func longestPrefixMatch(of run: [String], in file: [String], from start: Int) -> Int {
    var best = 0
    for index in start..<file.count {
        var matched = 0
        while matched < run.count && index + matched < file.count && file[index + matched] == run[matched] { matched += 1 }
        best = max(best, matched)
    }
    return min(best, run.count - 1)
}

extension String {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

@Suite struct ChapterTests {
    @Test("every Swift excerpt in a chapter is the code as it is now", arguments: try chapterFiles())
    func excerptsMatchTheCode(chapter: String) throws {
        let blocks = fencedBlocks(in: try readText(chapter)).filter { $0.info == "swift" }
        var checked = 0
        for block in blocks {
            // A sketch (an exercise's starting point, a variant the text discusses) says so in its
            // first line and is not code of the stage.
            if block.lines.first?.hasPrefix("// sketch") == true { continue }
            if let problem = try excerptProblem(block) {
                Issue.record("\(chapter):\(block.startLine): \(problem)")
            }
            checked += 1
        }
        #expect(checked >= 2, "\(chapter) quotes \(checked) Swift excerpts of its code: show the core of the lesson")
    }

    @Test("every diffstat a chapter quotes is what `make diff N` prints now", arguments: try chapterFiles())
    func diffstatsMatchMakeDiff(chapter: String) throws {
        for block in fencedBlocks(in: try readText(chapter)) {
            guard let stage = markedStage(block.lineBefore, kind: "stat") else { continue }
            // (runCommand execs its command line: a script path, not a `cd`; diff.sh finds the root itself.)
            let run = try runCommand("\(shellQuoted(repositoryRoot + "/scripts/diff.sh")) \(stage) --stat")
            #expect(run.status == .exited(0))
            #expect(block.lines == run.lines, "\(chapter):\(block.startLine): the diffstat of make diff \(stage) changed; paste `scripts/diff.sh \(stage) --stat`:\n\(run.lines.joined(separator: "\n"))")
        }
    }

    @Test("every file of a chapter's reading order exists in its stage", arguments: try chapterFiles())
    func readingOrderNamesRealFiles(chapter: String) throws {
        let lines = try readText(chapter).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (index, line) in lines.enumerated() {
            guard let stage = markedStage(line, kind: "reading order") else { continue }
            var paths: [String] = []
            for item in lines[(index + 1)...] {
                if item.first?.isNumber == true, let open = item.firstIndex(of: "`") {
                    let rest = item[item.index(after: open)...]
                    paths.append(String(rest.prefix { $0 != "`" }))
                } else if item.hasPrefix(" ") {
                    continue
                } else {
                    break
                }
            }
            #expect(!paths.isEmpty, "\(chapter):\(index + 1): a reading order with no files")
            for path in paths {
                #expect(path.hasPrefix("Sources/v0.\(stage)/"), "\(chapter): \(path) is not a file of v0.\(stage)")
                #expect((try? readText(path)) != nil, "\(chapter): the reading order names \(path), which does not exist")
            }
        }
    }
}

/// N, if `line` is the marker `<!-- make diff N: <kind> -->`.
func markedStage(_ line: String, kind: String) -> Int? {
    let text = line.trimmingSpaces
    guard text.hasPrefix("<!-- make diff "), text.hasSuffix(": \(kind) -->") else { return nil }
    return Int(text.dropFirst("<!-- make diff ".count).prefix { $0.isNumber })
}
