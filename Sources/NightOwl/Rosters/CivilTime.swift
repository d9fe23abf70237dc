import Foundation
import OwlCore

/// A calendar date without a zone (`2026-03-29`), counted in days since 1970-01-01 so that adding days is arithmetic.
public struct LocalDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let daysSinceEpoch: Int

    public init(daysSinceEpoch: Int) { self.daysSinceEpoch = daysSinceEpoch }

    /// Proleptic Gregorian date to day number (H. Hinnant's days_from_civil).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), (1...31).contains(day), (1...9999).contains(year),
              day <= LocalDate.daysIn(month: month, year: year) else { return nil }
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        daysSinceEpoch = era * 146_097 + doe - 719_468
    }

    /// Parses `YYYY-MM-DD` strictly.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]) else { return nil }
        self.init(year: year, month: month, day: day)
    }

    public var components: (year: Int, month: Int, day: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    public func adding(days: Int) -> LocalDate { LocalDate(daysSinceEpoch: daysSinceEpoch + days) }

    public var description: String {
        let (y, m, d) = components
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool { lhs.daysSinceEpoch < rhs.daysSinceEpoch }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

/// A wall-clock time of day (`08:00`), in minutes since midnight.
public struct LocalTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let minutes: Int

    public init?(minutes: Int) {
        guard (0..<1440).contains(minutes) else { return nil }
        self.minutes = minutes
    }

    /// Parses `HH:MM` (24-hour) strictly; `HH:MM:00` is accepted for clients that send seconds.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), parts.allSatisfy({ $0.count == 2 && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let hour = Int(parts[0]), let minute = Int(parts[1]), hour < 24, minute < 60,
              parts.count == 2 || parts[2] == "00" else { return nil }
        minutes = hour * 60 + minute
    }

    public var description: String { "\(pad(minutes / 60, 2)):\(pad(minutes % 60, 2))" }
    public static func < (lhs: LocalTime, rhs: LocalTime) -> Bool { lhs.minutes < rhs.minutes }
}

/// Conversions between instants and wall-clock times of one IANA zone.
public struct Zone: Sendable, Hashable {
    public let timeZone: TimeZone
    /// The name as given (Foundation reports `UTC` as `GMT`).
    public let identifier: String

    /// Only IANA names (see `IANAZone`).
    public init?(identifier: String) {
        guard let zone = IANAZone.timeZone(identifier) else { return nil }
        timeZone = zone
        self.identifier = identifier
    }

    public static let utc = Zone(identifier: "UTC")!

    /// Seconds to add to UTC to get wall-clock time at `instant`.
    public func offset(at instant: Date) -> Int { timeZone.secondsFromGMT(for: instant) }

    /// The instant at which the wall clock reads `time` on `date`. When that time is skipped by a daylight-saving
    /// jump, the clock moves forward by the jump (02:30 on a spring-forward night becomes 03:30); when it occurs twice,
    /// the first occurrence is taken. Both are what people mean by "at 02:30 that night".
    public func instant(_ date: LocalDate, _ time: LocalTime) -> Date {
        let wall = Double(date.daysSinceEpoch * 86_400 + time.minutes * 60)
        let before = offset(at: Date(timeIntervalSince1970: wall - 86_400))
        let after = offset(at: Date(timeIntervalSince1970: wall + 86_400))
        // A larger offset means an earlier instant: trying it first picks the first of two occurrences.
        for candidate in Set([before, after]).sorted(by: >) {
            let instant = Date(timeIntervalSince1970: wall - Double(candidate))
            if offset(at: instant) == candidate { return instant }
        }
        return Date(timeIntervalSince1970: wall - Double(before))
    }

    /// The wall-clock date and time at `instant`.
    public func local(_ instant: Date) -> (date: LocalDate, time: LocalTime, offset: Int) {
        let offset = offset(at: instant)
        let seconds = Int(instant.timeIntervalSince1970.rounded(.down)) + offset
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let minute = (seconds - days * 86_400) / 60
        return (LocalDate(daysSinceEpoch: days), LocalTime(minutes: minute)!, offset)
    }

    /// RFC 3339 with the zone's offset: `2026-03-29T08:00:00+02:00`.
    public func rfc3339(_ instant: Date) -> String {
        let (date, time, offset) = local(instant)
        let seconds = Int(instant.timeIntervalSince1970.rounded(.down)) % 60
        let sign = offset < 0 ? "-" : "+"
        let magnitude = abs(offset) / 60
        return "\(date)T\(time):\(pad((seconds + 60) % 60, 2))\(sign)\(pad(magnitude / 60, 2)):\(pad(magnitude % 60, 2))"
    }
}

func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}
