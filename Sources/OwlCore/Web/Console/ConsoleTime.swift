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
        let local = CivilTime(date.addingTimeInterval(TimeInterval(zone.secondsFromGMT(for: date))))
        let thisYear = CivilTime(now.addingTimeInterval(TimeInterval(zone.secondsFromGMT(for: now)))).year
        let weekday = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][local.weekday]
        let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][local.month - 1]
        let year = local.year == thisYear ? "" : " \(local.year)"
        let clock = (local.hour < 10 ? "0" : "") + "\(local.hour):" + (local.minute < 10 ? "0" : "") + "\(local.minute)"
        return "\(weekday) \(local.day) \(month)\(year), \(clock) \(Self.zoneName(zone, at: date))"
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

/// The proleptic Gregorian date and time of an instant already shifted to local time (days from the civil calendar's
/// arithmetic, as in Howard Hinnant's `civil_from_days`): what Foundation's `Calendar` gives, for a fraction of its cost
/// in a list of fifty rows.
struct CivilTime: Equatable {
    var year: Int, month: Int, day: Int, hour: Int, minute: Int
    /// 0 is Sunday.
    var weekday: Int

    init(_ local: Date) {
        let seconds = Int(floor(local.timeIntervalSince1970))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let second = seconds - days * 86_400
        hour = second / 3_600
        minute = second % 3_600 / 60
        weekday = ((days % 7) + 11) % 7 // 1970-01-01 was a Thursday
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shifted = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * shifted + 2) / 5 + 1
        month = shifted < 10 ? shifted + 3 : shifted - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }
}
