// BuiltProducts.swift: where tests find the binaries SwiftPM built (v0.N-server, v0.N-client), and
// how to put a path into a shell command line.
import Glibc

/// The directory holding the running executable: for a test run, .build/<triple>/debug/, where
/// SwiftPM also puts every product it built. `swift test` builds them all before it runs a test.
public func builtProductsDirectory() -> String {
    var path = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let n = readlink("/proc/self/exe", &path, path.count - 1)
    guard n > 0 else { return "." }
    let executable = String(decoding: path[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return String(executable[..<(executable.lastIndex(of: "/") ?? executable.endIndex)])
}

/// The path of the built product `name` ("v0.2-server"), or nil if it was not built.
public func builtProduct(_ name: String) -> String? {
    let path = builtProductsDirectory() + "/" + name
    return access(path, X_OK) == 0 ? path : nil
}

/// `'it''s'` -> `'it'\''s'`: a path as one shell word, whatever it contains.
public func shellQuoted(_ text: String) -> String {
    "'" + text.replacing("'", with: "'\\''") + "'"
}
