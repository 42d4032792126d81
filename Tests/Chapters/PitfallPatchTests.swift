// PitfallPatchTests.swift: every pitfall a stage introduces has a patch in pitfalls/v0.N that puts it
// back, every patch still applies, and every test a patch names exists. (`make pitfalls N` then shows
// each test failing with its bug in; that takes builds, so it is not part of `make test`.)
import Conformance
import Testing

/// The stages, from Package.swift's list (scripts/stages.sh reads the same line).
func stageNumbers() throws -> [Int] {
    let manifest = try readText("Package.swift")
    guard let line = manifest.split(separator: "\n").first(where: { $0.hasPrefix("let stages = [") }) else { return [] }
    return line.drop { $0 != "[" }.dropFirst().prefix { $0 != "]" }.split(separator: ",").compactMap { Int($0.trimmingSpacesAndTabs) }
}

extension Substring {
    var trimmingSpacesAndTabs: String { String(self).trimmingSpaces }
}

/// A PITFALL comment of a stage: its first line, and the test its `Guarded by:` line names (the text
/// after "Guarded by: ", with `v0.N` made the stage's own number and the final period dropped).
struct PitfallComment: Hashable {
    let text: String
    let guardedBy: String?
    let file: String
}

func pitfallComments(stage: Int) throws -> [PitfallComment] {
    let root = "Sources/v0.\(stage)"
    var found: [PitfallComment] = []
    for file in try sourceFiles(under: root) {
        let lines = try readText(file).split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingSpacesAndTabs }
        for (index, line) in lines.enumerated() where line.contains("PITFALL:") {
            // The pitfall's comment runs on while the lines are comments.
            var guardText: String? = nil
            var next = index
            while next < lines.count && lines[next].hasPrefix("//") {
                if let range = lines[next].firstRange(of: "Guarded by: ") {
                    guardText = normalizedGuard(String(lines[next][range.upperBound...]), stage: stage)
                    break
                }
                next += 1
            }
            found.append(PitfallComment(text: line, guardedBy: guardText, file: file))
        }
    }
    return found
}

func normalizedGuard(_ text: String, stage: Int) -> String {
    var text = text.replacing("Tests/v0.N/", with: "Tests/v0.\(stage)/").trimmingSpaces
    while text.hasSuffix(".") { text.removeLast() }
    return text
}

/// The .swift files under `directory`, recursively.
func sourceFiles(under directory: String) throws -> [String] {
    var files: [String] = []
    for name in try sysListDirectory(repositoryRoot + "/" + directory).sorted() {
        let path = directory + "/" + name
        if name.hasSuffix(".swift") { files.append(path) } else if !name.contains(".") { files += (try? sourceFiles(under: path)) ?? [] }
    }
    return files
}

/// A patch's header lines (before its diff).
struct PitfallPatch {
    let path: String
    let pitfall: String?
    let guardedBy: String?
    let run: String?
}

func pitfallPatches(stage: Int) throws -> [PitfallPatch] {
    let directory = "pitfalls/v0.\(stage)"
    guard let names = try? sysListDirectory(repositoryRoot + "/" + directory) else { return [] }
    return try names.filter { $0.hasSuffix(".patch") }.sorted().map { name in
        let path = directory + "/" + name
        let header = try readText(path).split(separator: "\n").prefix { !$0.hasPrefix("diff --git") }.map(String.init)
        func field(_ key: String) -> String? {
            header.first { $0.hasPrefix(key + ": ") }.map { String($0.dropFirst(key.count + 2)).trimmingSpaces }
        }
        return PitfallPatch(path: path, pitfall: field("Pitfall"), guardedBy: field("Guarded by").map { normalizedGuard($0, stage: stage) },
                            run: field("Run"))
    }
}

@Suite struct PitfallPatchTests {
    /// Pitfalls and patches are matched by their guard: each guard needs as many patches as the new
    /// PITFALL comments it guards (one comment may have more: a read that ends anywhere can drop a
    /// partial frame or leave whole ones waiting), and each patch puts back a pitfall the code marks.
    @Test("every pitfall a stage introduces has a patch that puts it back", arguments: try stageNumbers())
    func everyNewPitfallHasAPatch(stage: Int) throws {
        let earlier = stage > 1 ? Set(try pitfallComments(stage: stage - 1).map(\.text)) : []
        let new = try pitfallComments(stage: stage).filter { !earlier.contains($0.text) }
        let patches = try pitfallPatches(stage: stage)
        var patchesPerGuard: [String: Int] = [:]
        for guardedBy in patches.compactMap(\.guardedBy) { patchesPerGuard[guardedBy, default: 0] += 1 }
        var pitfallsPerGuard: [String: [PitfallComment]] = [:]
        for pitfall in new {
            guard let guardedBy = pitfall.guardedBy else {
                Issue.record("\(pitfall.file): \"\(pitfall.text.prefix(70))\" names no test (`Guarded by:`)")
                continue
            }
            pitfallsPerGuard[guardedBy, default: []].append(pitfall)
        }
        for (guardedBy, pitfalls) in pitfallsPerGuard {
            #expect(patchesPerGuard[guardedBy, default: 0] >= pitfalls.count,
                    "\(pitfalls.count) new PITFALL comment(s) guarded by \(guardedBy) and \(patchesPerGuard[guardedBy, default: 0]) patch(es) in pitfalls/v0.\(stage): \(pitfalls.map { "\($0.file): \($0.text.prefix(60))" })")
        }
        for patch in patches {
            guard let guardedBy = patch.guardedBy else { continue }
            #expect(pitfallsPerGuard[guardedBy] != nil,
                    "\(patch.path) puts back a pitfall no new PITFALL comment of v0.\(stage) names (guarded by \(guardedBy)): mark it in the code")
        }
    }

    @Test("every patch applies to the tree and names a test that exists", arguments: try stageNumbers())
    func patchesApplyAndNameRealTests(stage: Int) throws {
        for patch in try pitfallPatches(stage: stage) {
            #expect(patch.pitfall != nil && patch.guardedBy != nil && patch.run != nil,
                    "\(patch.path): the header needs `Pitfall:`, `Guarded by:` and `Run:` lines")
            let check = try runCommand("git -C \(shellQuoted(repositoryRoot)) apply --check \(shellQuoted(patch.path))")
            #expect(check.status == .exited(0), "\(patch.path) no longer applies: \(check.lines.prefix(3).joined(separator: " | "))")
            if let guardedBy = patch.guardedBy, guardedBy.hasPrefix("Tests/"), let quote = guardedBy.firstIndex(of: "\"") {
                let file = String(guardedBy[..<quote]).trimmingSpaces
                let name = String(guardedBy[quote...])           // "the test's name", quotes included
                let text = (try? readText(file)) ?? ""
                #expect(text.contains("@Test(\(name)"), "\(patch.path): \(file) has no test \(name)")
            }
            if let run = patch.run {
                let words = run.split(separator: " ").map(String.init)
                switch words.first {
                case "test":
                    #expect(words.count == 2, "\(patch.path): `Run: test FILTER`")
                case "check":
                    #expect(words.count >= 3 && Ladder.behaviour(id: words[2]) != nil, "\(patch.path): `Run: check N BEHAVIOUR [FLAGS]` names no behaviour of the ladder")
                default:
                    Issue.record("\(patch.path): `Run:` is `test FILTER` or `check N BEHAVIOUR [FLAGS]`, not \(run)")
                }
            }
        }
    }
}
