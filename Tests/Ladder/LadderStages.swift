// LadderStages.swift: the conformance ladder against every stage's own server, one suite per stage.
// Stage N runs every behaviour of stages 1...N; `swift test --filter LadderV0_2` runs one stage.
// A new stage is one more suite: copy the last one and change the two numbers. From v0.3 on, the
// event loop has two trigger modes, and every behaviour runs against both, each case on its own server.
// The time limits (here and in every suite that has one) are generous: under ThreadSanitizer (make
// sanitize) the servers run several times slower, and Swift Testing starts a test's clock when it
// schedules the test, so a test waiting for one of the two cores behind long ladder cases counts that
// wait too (CI saw 1-minute limits run out that way in a 97-second run).
import Conformance
import Testing

@Suite(.timeLimit(.minutes(6))) struct LadderV0_1 {
    @Test(arguments: Ladder.behaviours(upTo: 1).map(\.id)) func behaviour(_ id: String) throws { try expectStageServerPasses(id, stage: 1) }
}

@Suite(.timeLimit(.minutes(6))) struct LadderV0_2 {
    @Test(arguments: Ladder.behaviours(upTo: 2).map(\.id)) func behaviour(_ id: String) throws { try expectStageServerPasses(id, stage: 2) }
}

/// The server flags of the event-loop stages: level-triggered (the default), then edge-triggered.
let triggerModes = ["", "--edge-triggered"]

@Suite(.timeLimit(.minutes(6))) struct LadderV0_3 {
    @Test(arguments: Ladder.behaviours(upTo: 3).map(\.id), triggerModes)
    func behaviour(_ id: String, flags: String) throws { try expectStageServerPasses(id, stage: 3, flags: flags) }
}

// v0.4 adds no behaviours; its server is still the event loop, so both trigger modes again.
@Suite(.timeLimit(.minutes(6))) struct LadderV0_4 {
    @Test(arguments: Ladder.behaviours(upTo: 4).map(\.id), triggerModes)
    func behaviour(_ id: String, flags: String) throws { try expectStageServerPasses(id, stage: 4, flags: flags) }
}

@Suite(.timeLimit(.minutes(6))) struct LadderV0_5 {
    @Test(arguments: Ladder.behaviours(upTo: 5).map(\.id), triggerModes)
    func behaviour(_ id: String, flags: String) throws { try expectStageServerPasses(id, stage: 5, flags: flags) }
}

@Suite(.timeLimit(.minutes(6))) struct LadderV0_6 {
    @Test(arguments: Ladder.behaviours(upTo: 6).map(\.id), triggerModes)
    func behaviour(_ id: String, flags: String) throws { try expectStageServerPasses(id, stage: 6, flags: flags) }
}

// v0.7: one I/O loop and no workers is v0.6's server; two loops and two workers is the new one. Each
// behaviour runs in both trigger modes with two loops and two workers, and level-triggered with one loop.
let threadModes = ["", "--io-threads 2 --workers 2", "--io-threads 2 --workers 2 --edge-triggered"]

@Suite(.timeLimit(.minutes(6))) struct LadderV0_7 {
    @Test(arguments: Ladder.behaviours(upTo: 7).map(\.id), threadModes)
    func behaviour(_ id: String, flags: String) throws { try expectStageServerPasses(id, stage: 7, flags: flags) }
}
