// StageServers.swift: the command that starts each stage's server, and how the tests run one behaviour.
import Conformance
import Testing

/// The shell command that starts stage `stage`'s server with `flags` (e.g. "--edge-triggered"),
/// or a failed expectation if it was not built.
func serverCommand(stage: Int, flags: String = "") throws -> String {
    let binary = try #require(builtProduct("v0.\(stage)-server"), "v0.\(stage)-server is missing: build it first (swift build)")
    return shellQuoted(binary) + (flags.isEmpty ? "" : " " + flags)
}

/// Runs the single behaviour `id` with the given options and returns its result.
func runOne(_ id: String, stage: Int, target: CheckerOptions.Target, readyTimeout: Duration = .seconds(15)) throws -> BehaviourResult {
    var options = CheckerOptions(stage: stage, target: target)
    options.only = [id]
    options.readyTimeout = readyTimeout
    let results = LadderRunner(options: options).run()
    return try #require(results.first, "behaviour \(id) did not run")
}

/// Starts a fresh `v0.N-server` (with `flags`), checks behaviour `id` against it, stops the server.
func expectStageServerPasses(_ id: String, stage: Int, flags: String = "") throws {
    let result = try runOne(id, stage: stage, target: .command(try serverCommand(stage: stage, flags: flags)))
    #expect(result.passed, "\(Report.line(for: result))")
}
