// PseudoRandom.swift: reproducible "random" bytes, so that a failing run fails the same way again.

/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny generator whose output from a given seed is
/// fixed forever. Payloads are made of it because runs of one repeated byte would hide a server
/// that drops, duplicates or reorders chunks; and a fixed seed makes every failure repeatable.
public struct PseudoRandom {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `count` bytes from the generator.
    public static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = PseudoRandom(seed: seed)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 8)
        while bytes.count < count {
            let word = generator.next()
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return Array(bytes.prefix(count))
    }
}
