// Machine.swift: what a benchmark ran on: CPU model, cores, kernel. Figures mean little without it.
import Conformance
import Glibc

public struct Machine: Sendable {
    public let cpuModel: String
    public let cores: Int
    public let kernel: String

    public static func current() -> Machine {
        let cpuinfo = (try? sysReadSmallFile("/proc/cpuinfo", limit: 1 << 20)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { String($0.drop { $0 == " " }) } ?? "unknown CPU"
        var names = utsname()
        uname(&names)
        let kernel = withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return Machine(cpuModel: model, cores: sysOnlineCPUs(), kernel: "Linux " + kernel)
    }

    /// `AMD EPYC 9B14, 2 cores, Linux 6.18.44`
    public var line: String { "\(cpuModel), \(cores) core\(cores == 1 ? "" : "s"), \(kernel)" }
}
