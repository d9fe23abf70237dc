import Foundation
import OwlCore

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
        return "\(date)T\(time):\(((seconds + 60) % 60).zeroPadded(2))\(sign)\((magnitude / 60).zeroPadded(2)):\((magnitude % 60).zeroPadded(2))"
    }
}
