// ExampleServerTests.swift: the ladder checks servers it did not build: examples/echo_server.py, the
// README's "check your own server" example, passes stage 1 (where python3 is installed).
import Conformance
import Testing

/// The repository's root, from this file's path (Tests/Ladder/ExampleServerTests.swift).
private let repositoryRoot = String(#filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/"))

private let havePython3 = (try? runCommand("python3 --version", timeout: .seconds(5)))?.status == .exited(0)

@Suite(.timeLimit(.minutes(5))) struct ExampleServerTests {
    @Test("examples/echo_server.py passes the stage-1 ladder", .enabled(if: havePython3, "python3 is not installed"),
          arguments: Ladder.behaviours(upTo: 1).map(\.id))
    func pythonEchoServer(_ id: String) throws {
        let command = "python3 " + shellQuoted(repositoryRoot + "/examples/echo_server.py")
        let result = try runOne(id, stage: 1, target: .command(command))
        #expect(result.passed, "\(Report.line(for: result))")
    }
}
