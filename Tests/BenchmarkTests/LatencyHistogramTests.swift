// LatencyHistogramTests.swift: the buckets cover every value once, and percentiles land within a bucket.
@testable import Benchmark
import Testing

@Suite struct LatencyHistogramTests {
    @Test("every value falls into the bucket whose range holds it")
    func bucketsCoverValues() {
        var values: [UInt64] = Array(0...5000)
        for shift in 13..<63 { values += [(1 << UInt64(shift)) - 1, 1 << UInt64(shift), (1 << UInt64(shift)) + 12345] }
        for value in values {
            let bucket = LatencyHistogram.bucket(of: value)
            #expect(LatencyHistogram.lowestValue(in: bucket) <= value, "value \(value), bucket \(bucket)")
            #expect(value < LatencyHistogram.lowestValue(in: bucket + 1), "value \(value), bucket \(bucket)")
        }
    }

    @Test("a bucket is at most 1/64 of its values wide")
    func bucketWidth() {
        for bucket in 64..<(64 * 50) {
            let low = LatencyHistogram.lowestValue(in: bucket), high = LatencyHistogram.lowestValue(in: bucket + 1)
            #expect(high > low)
            #expect((high - low) * 64 <= low, "bucket \(bucket): \(low)..<\(high)")
        }
    }

    @Test("percentiles of 1...100,000 ns are within 2% of the exact ones")
    func percentiles() {
        var histogram = LatencyHistogram()
        for value in 1...100_000 { histogram.record(nanoseconds: UInt64(value)) }
        #expect(histogram.count == 100_000)
        for (fraction, exact) in [(0.5, 50_000.0), (0.99, 99_000.0), (0.999, 99_900.0)] {
            let measured = Double(histogram.percentile(fraction))
            #expect(abs(measured - exact) / exact < 0.02, "p\(fraction): \(measured), exact \(exact)")
        }
        #expect(histogram.percentile(1.0) <= 100_000)
    }

    @Test("one slow outlier moves p999 but not p50")
    func outlier() {
        var histogram = LatencyHistogram()
        for _ in 0..<999 { histogram.record(nanoseconds: 50_000) }
        histogram.record(nanoseconds: 9_000_000)
        #expect(histogram.percentile(0.5) < 51_000)
        #expect(histogram.percentile(0.9995) > 8_800_000)
    }

    @Test("an empty histogram reads 0, and adding two sums their counts")
    func emptyAndAdd() {
        var a = LatencyHistogram(), b = LatencyHistogram()
        #expect(a.percentile(0.99) == 0)
        a.record(nanoseconds: 1000)
        b.record(nanoseconds: 3000)
        a.add(b)
        #expect(a.count == 2 && a.maximum == 3000)
    }
}
