import Foundation

/// Time-zone names as users give them: only IANA names (`Europe/Berlin`, `America/Argentina/Buenos_Aires`, `UTC`).
/// Abbreviations and fixed offsets such as `CET` or `GMT+1` are refused, because they do not follow a region's
/// daylight-saving rules, which is what shifts and local times need.
public enum IANAZone {
    public static func timeZone(_ identifier: String) -> TimeZone? {
        guard identifier == "UTC" || isAreaLocation(identifier), let zone = TimeZone(identifier: identifier),
              identifier == "UTC" || zone.identifier == identifier else { return nil }
        return zone
    }

    public static func isValid(_ identifier: String) -> Bool { timeZone(identifier) != nil }

    /// `Area/Location` or `Area/Region/Location`; the tz database then decides whether it exists.
    static func isAreaLocation(_ identifier: String) -> Bool {
        let parts = identifier.split(separator: "/", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), identifier.count <= 64 else { return false }
        return parts.allSatisfy { part in
            guard let first = part.first, first.isASCII, first.isUppercase else { return false }
            return part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_+-".contains($0)) }
        }
    }
}
