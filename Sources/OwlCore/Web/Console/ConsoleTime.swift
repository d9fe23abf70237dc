import Foundation

/// Times as a console shows them: in the viewer's zone with the zone named ("Sun 6 Dec, 03:12 CET"), the instant in
/// `datetime` for machines, and how long ago for a glance.
public struct ConsoleTime: Sendable {
    public let zone: TimeZone
    public let now: Date

    public init(zone: TimeZone, now: Date) {
        self.zone = zone
        self.now = now
    }

    /// The values of a `<time>` element: `iso`, `text`, `ago`.
    public func value(_ date: Date) -> [String: String] {
        ["iso": Timestamp.format(date), "text": text(date), "ago": Self.ago(now.timeIntervalSince(date))]
    }

    public func value(_ date: Date?) -> Any { date.map(value) ?? false }

    /// The date and time in the zone, with its abbreviation; the year only when it is not this year's.
    public func text(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: date)
        let thisYear = calendar.component(.year, from: now)
        let weekday = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][(parts.weekday ?? 1) - 1]
        let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][(parts.month ?? 1) - 1]
        let year = parts.year == thisYear ? "" : " \(parts.year ?? 0)"
        let clock = String(format: "%02d:%02d", parts.hour ?? 0, parts.minute ?? 0)
        return "\(weekday) \(parts.day ?? 0) \(month)\(year), \(clock) \(Self.zoneName(zone, at: date))"
    }

    /// The zone's abbreviation at `date` (CET, CEST, EST), or its offset (UTC+05:30) where it has none.
    static func zoneName(_ zone: TimeZone, at date: Date) -> String {
        if zone.identifier == "UTC" || zone.identifier == "GMT" { return "UTC" }
        if let abbreviation = ZoneNames.abbreviation(zone, at: date) { return abbreviation }
        let seconds = zone.secondsFromGMT(for: date)
        return String(format: "UTC%@%02d:%02d", seconds < 0 ? "-" : "+", abs(seconds) / 3600, abs(seconds) % 3600 / 60)
    }

    /// "just now", "5 min ago", "3 h ago", "2 days ago"; "in 5 min" for the future.
    public static func ago(_ seconds: TimeInterval) -> String {
        let future = seconds < 0
        let s = abs(seconds)
        if s < 60 { return future ? "in under a minute" : "just now" }
        let amount: String = switch s {
        case ..<3_600: "\(Int(s / 60)) min"
        case ..<86_400: "\(Int(s / 3_600)) h"
        default: Int(s / 86_400) == 1 ? "1 day" : "\(Int(s / 86_400)) days"
        }
        return future ? "in \(amount)" : "\(amount) ago"
    }

    /// A duration as people say it: "45 s", "12 min", "3 h 5 min", "2 days 4 h".
    public static func duration(_ seconds: TimeInterval) -> String {
        let s = Int(max(seconds, 0))
        switch s {
        case ..<60: return "\(s) s"
        case ..<3_600: return "\(s / 60) min"
        case ..<86_400: return s % 3_600 / 60 == 0 ? "\(s / 3_600) h" : "\(s / 3_600) h \(s % 3_600 / 60) min"
        default: return s % 86_400 / 3_600 == 0 ? "\(s / 86_400) d" : "\(s / 86_400) d \(s % 86_400 / 3_600) h"
        }
    }
}
