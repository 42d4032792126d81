// CommandLineTests.swift: loadgen, bench and the C reference say what is wrong with a command line
// in one line, and exit 2.
import Conformance
import Testing

@Suite struct CommandLineTests {
    @Test("a bad command line is one line on stderr and exit status 2", arguments: [
        "loadgen --port 1 --connections 0",
        "loadgen --port 1 --bogus 3",
        "loadgen --connections 5",
        "loadgen --port 1 --duration 1 --requests 5",
        "loadgen --port= --connections 5",
        "bench frobnicate",
        "bench conns",
        "bench table x",
        "c-echo-server --bogus",
    ])
    func badFlags(commandLine: String) throws {
        let words = commandLine.split(separator: " ", maxSplits: 1).map(String.init)
        let binary = try #require(builtProduct(words[0]), "\(words[0]) is not built")
        let result = try runCommand(shellQuoted(binary) + " " + words[1])
        #expect(result.status == .exited(2), "\(result.lines)")
        #expect(result.lines.count == 1, "\(result.lines)")
    }
}
