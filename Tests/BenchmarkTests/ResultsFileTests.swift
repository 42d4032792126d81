// ResultsFileTests.swift: bench/results.md keeps the three commands' sections, and its charts say what
// its tables say.
import Testing
@testable import Benchmark

@Suite struct ResultsFileTests {
    let loads = """
    # make bench: results

    | server | QPS, 1 conn | QPS, 50 conns |
    |---|---:|---:|
    | C reference | 8,979 | 181,503 * |
    | v0.1 | 9,164 (1.02x) | 9,406 (0.05x) [1 of 50 conns answered] |

    - `*`: a note.
    """

    @Test("the load chart is drawn from the table's QPS at 50 connections")
    func loadChart() {
        let file = ResultsFile.replacingLoads(in: "", with: loads)
        #expect(file.contains("x-axis [\"C reference\", \"v0.1\"]"))
        #expect(file.contains("bar [181503, 9406]"))
        #expect(file.hasPrefix(loads))
    }

    @Test("each command keeps the other's section, and a stage's row is replaced, not repeated")
    func sectionsKept() {
        var file = ResultsFile.replacingLoads(in: "", with: loads)
        file = ResultsFile.replacingInstructions(in: file, server: "v0.4", perRoundTrip: 120.04, reference: 48.5, referenceName: "C reference")
        file = ResultsFile.replacingInstructions(in: file, server: "v0.3", perRoundTrip: 121.0, reference: 48.6, referenceName: "C reference")
        file = ResultsFile.replacingInstructions(in: file, server: "v0.4", perRoundTrip: 119.9, reference: 48.4, referenceName: "C reference")
        file = ResultsFile.replacingLoads(in: file, with: loads.replacing("9,406", with: "9,500"))
        #expect(file.contains("| v0.3 | 121.0 | 48.6 | 2.49x |"))
        #expect(file.contains("| v0.4 | 119.9 | 48.4 | 2.48x |"))
        #expect(!file.contains("120.0"))
        #expect(file.contains("| C reference | 48.4 | 48.4 | 1.00x |"))
        #expect(file.contains("bar [181503, 9500]"))
        #expect(file.contains("bar [48.4, 121.0, 119.9]"))
        #expect(file.split(separator: "```mermaid", omittingEmptySubsequences: false).count == 3)
        #expect(ResultsFile.withCharts(file) == file)
    }

    @Test("the slow-request section stays last through the other commands, and gets its p99 chart")
    func slowSectionKept() {
        let slow = """
        \(ResultsFile.slowHeading)

        | server | echo p99 | echo p50 | echo QPS | computes answered |
        |---|---:|---:|---:|---:|
        | v0.7 --workers 0 | 12,345 us | 300 us | 50,000 | 80 |
        | v0.7 --workers 2 | 900 us | 250 us | 90,000 | 85 |

        """
        var file = ResultsFile.replacingSlowRequest(in: "", with: slow)
        file = ResultsFile.replacingLoads(in: file, with: loads)
        file = ResultsFile.replacingInstructions(in: file, server: "v0.7", perRoundTrip: 130, reference: 48.5, referenceName: "C reference")
        file = ResultsFile.replacingSlowRequest(in: file, with: slow.replacing("900 us", with: "800 us"))
        #expect(file.hasPrefix(loads))
        #expect(file.contains("| v0.7 | 130.0 | 48.5 | 2.68x |"))
        #expect(file.contains("bar [12345, 800]") && !file.contains("900 us"))
        #expect(file.ranges(of: ResultsFile.slowHeading).count == 1)
        #expect(file.firstRange(of: ResultsFile.slowHeading)!.lowerBound > file.firstRange(of: "Instructions per round trip")!.lowerBound)
        #expect(ResultsFile.withCharts(file) == file)
    }
}
