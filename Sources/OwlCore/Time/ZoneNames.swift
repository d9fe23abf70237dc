import Foundation
import NIOConcurrencyHelpers

/// The abbreviations people know a zone by (CET and CEST, EST and EDT, IST), read from the footer of the system's
/// time-zone file (its POSIX rule, `CET-1CEST,M3.5.0,M10.5.0/3`): Foundation on Linux only offers `GMT+1`. A zone whose
/// rule names no letters (`<+0545>-5:45`) has no abbreviation, and is shown by its offset.
public enum ZoneNames {
    private static let cache = NIOLockedValueBox([String: (standard: String?, daylight: String?)]())
    static let directory = "/usr/share/zoneinfo"

    /// The abbreviation of `zone` at `date`, or nil when it has none.
    public static func abbreviation(_ zone: TimeZone, at date: Date) -> String? {
        let names = names(of: zone.identifier)
        return zone.isDaylightSavingTime(for: date) ? names.daylight : names.standard
    }

    static func names(of identifier: String) -> (standard: String?, daylight: String?) {
        if let known = cache.withLockedValue({ $0[identifier] }) { return known }
        var found: (String?, String?) = (nil, nil)
        if identifier.range(of: #"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$"#, options: .regularExpression) != nil,
           let data = FileManager.default.contents(atPath: "\(directory)/\(identifier)") {
            found = parse(footer: footer(data))
        }
        cache.withLockedValue { $0[identifier] = found }
        return found
    }

    /// The POSIX rule at the end of a TZif file: the text between its last two newlines.
    static func footer(_ data: Data) -> String {
        let bytes = [UInt8](data.suffix(200))
        guard bytes.last == 0x0A, let start = bytes.dropLast().lastIndex(of: 0x0A) else { return "" }
        return String(decoding: bytes[(start + 1)..<(bytes.count - 1)], as: UTF8.self)
    }

    /// The standard and daylight names of a POSIX rule; names in angle brackets are numeric and do not count.
    public static func parse(footer rule: String) -> (standard: String?, daylight: String?) {
        var rest = Substring(rule)
        func name() -> String? {
            if rest.first == "<" {
                guard let end = rest.firstIndex(of: ">") else { rest = ""; return nil }
                rest = rest[rest.index(after: end)...]
                return nil
            }
            let letters = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(letters.count)
            return letters.count >= 3 ? String(letters) : nil
        }
        let standard = name()
        rest = rest.drop { $0.isNumber || $0 == "-" || $0 == "+" || $0 == ":" }
        let daylight = rest.isEmpty || rest.first == "," ? nil : name()
        return (standard, daylight)
    }
}
