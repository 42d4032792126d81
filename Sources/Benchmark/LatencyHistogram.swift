// LatencyHistogram.swift: round-trip times, counted into buckets, read back as percentiles.

/// Counts of latencies in nanoseconds, in buckets about 1.6% wide: values below 64 ns each have a
/// bucket; above, every power of two is split into 64 equal buckets (the scheme of HdrHistogram, at
/// two significant digits). Recording is an index computation and an increment: no allocation per
/// sample, and 30 KiB whatever the run's length, where keeping every sample would grow without bound.
public struct LatencyHistogram: Sendable {
    static let subBucketBits = 6
    static let subBuckets = 1 << subBucketBits
    private var counts = [UInt64](repeating: 0, count: (64 - subBucketBits + 1) * subBuckets)
    public private(set) var count: UInt64 = 0
    public private(set) var maximum: UInt64 = 0

    public init() {}

    static func bucket(of value: UInt64) -> Int {
        if value < UInt64(subBuckets) { return Int(value) }
        let exponent = UInt64.bitWidth - 1 - value.leadingZeroBitCount   // >= subBucketBits
        let subBucket = Int(value >> UInt64(exponent - subBucketBits)) & (subBuckets - 1)
        return (exponent - subBucketBits + 1) * subBuckets + subBucket
    }

    /// The smallest value that falls into `bucket`.
    static func lowestValue(in bucket: Int) -> UInt64 {
        if bucket < subBuckets { return UInt64(bucket) }
        let exponent = bucket / subBuckets + subBucketBits - 1
        let subBucket = UInt64(bucket % subBuckets)
        return (UInt64(subBuckets) + subBucket) << UInt64(exponent - subBucketBits)
    }

    public mutating func record(nanoseconds value: UInt64) {
        counts[Self.bucket(of: value)] &+= 1
        count &+= 1
        if value > maximum { maximum = value }
    }

    public mutating func add(_ other: LatencyHistogram) {
        for i in counts.indices { counts[i] &+= other.counts[i] }
        count &+= other.count
        maximum = max(maximum, other.maximum)
    }

    /// The value at or below which `fraction` (0.99 for p99) of the samples lie, as the middle of
    /// its bucket (within 1% of any sample in it), or 0 if nothing was recorded.
    public func percentile(_ fraction: Double) -> UInt64 {
        guard count > 0 else { return 0 }
        let rank = max(1, UInt64((Double(count) * fraction).rounded(.up)))
        var seen: UInt64 = 0
        for (bucket, n) in counts.enumerated() where n > 0 {
            seen += n
            if seen >= rank {
                let low = Self.lowestValue(in: bucket)
                let high = bucket + 1 < counts.count ? Self.lowestValue(in: bucket + 1) : low
                return min(maximum, low + (high - low) / 2)
            }
        }
        return maximum
    }
}
