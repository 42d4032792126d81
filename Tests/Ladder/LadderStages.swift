// LadderStages.swift: the conformance ladder against every stage's own server, one suite per stage.
// Stage N runs every behaviour of stages 1...N; `swift test --filter LadderV0_2` runs one stage.
// A new stage is one more suite: copy the last one and change the two numbers.
import Conformance
import Testing

@Suite(.timeLimit(.minutes(2))) struct LadderV0_1 {
    @Test(arguments: Ladder.behaviours(upTo: 1).map(\.id)) func behaviour(_ id: String) throws { try expectStageServerPasses(id, stage: 1) }
}

@Suite(.timeLimit(.minutes(2))) struct LadderV0_2 {
    @Test(arguments: Ladder.behaviours(upTo: 2).map(\.id)) func behaviour(_ id: String) throws { try expectStageServerPasses(id, stage: 2) }
}
