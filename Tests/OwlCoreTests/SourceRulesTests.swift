import Foundation
import Testing

/// Rules about the sources themselves that the compiler cannot enforce.
@Suite struct SourceRulesTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sources").standardized

    /// Time comes from the injected clock (`WallClock`), so that tests can drive it: `Date()` appears only where the
    /// system clock is defined.
    @Test func noDateInitializerOutsideTheClock() throws {
        var offenders: [String] = []
        let files = FileManager.default.enumerator(at: Self.sources, includingPropertiesForKeys: nil)
        while let url = files?.nextObject() as? URL {
            guard url.pathExtension == "swift", url.lastPathComponent != "WallClock.swift" else { continue }
            let text = try String(contentsOf: url, encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where line.contains("Date()") {
                offenders.append("\(url.path.replacingOccurrences(of: Self.sources.path + "/", with: "")):\(number + 1)")
            }
        }
        #expect(offenders.isEmpty, "read the time from the injected clock: \(offenders)")
        #expect(FileManager.default.fileExists(atPath: Self.sources.appendingPathComponent("OwlCore/Time/WallClock.swift").path))
    }
}
