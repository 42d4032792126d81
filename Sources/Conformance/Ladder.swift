// Ladder.swift: every behaviour, in stage order: checking stage N runs those of stages 1...N.

public enum Ladder {
    /// All behaviours, in the order they run. A new stage adds its file's list at the end.
    public static let behaviours: [Behaviour] = stage1Behaviours + stage2Behaviours + stage3Behaviours + stage5Behaviours + stage6Behaviours
        + stage7Behaviours

    /// The stages that have behaviours (1...the last one).
    public static var lastStage: Int { behaviours.map(\.stage).max() ?? 1 }

    /// Every behaviour a server of `stage` must have.
    public static func behaviours(upTo stage: Int) -> [Behaviour] {
        behaviours.filter { $0.stage <= stage }
    }

    public static func behaviour(id: String) -> Behaviour? {
        behaviours.first { $0.id == id }
    }

    /// The wire format of a stage: raw bytes in v0.1, frames from v0.2 on.
    public static func wireMode(ofStage stage: Int) -> WireMode {
        stage >= 2 ? .framed : .raw
    }
}
