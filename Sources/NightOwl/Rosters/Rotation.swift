import Foundation
import OwlCore

/// How long one shift lasts, in calendar days of the roster's zone.
public enum RotationKind: String, StrictEnum {
    case daily, weekly, custom
}

/// One rotation: shift k starts on `startDate + k × lengthDays` at `handoff`, wall-clock time in `zone`, and lasts until
/// shift k + 1 starts, so a handoff at 08:00 stays at 08:00 across daylight-saving changes (a weekly shift across the
/// change lasts 167 or 169 hours). Primary is member k mod n, secondary member k + 1 mod n.
public struct Rotation: Sendable, Hashable {
    public var zone: Zone
    public var startDate: LocalDate
    public var handoff: LocalTime
    public var lengthDays: Int
    /// Last day of the roster (inclusive, in its zone); nobody is on call afterwards.
    public var endDate: LocalDate?

    public init(zone: Zone, startDate: LocalDate, handoff: LocalTime, lengthDays: Int, endDate: LocalDate? = nil) {
        precondition(lengthDays >= 1)
        self.zone = zone
        self.startDate = startDate
        self.handoff = handoff
        self.lengthDays = lengthDays
        self.endDate = endDate
    }

    /// When shift `index` starts.
    public func start(ofShift index: Int) -> Date {
        zone.instant(startDate.adding(days: index * lengthDays), handoff)
    }

    /// The first instant the rotation runs.
    public var begins: Date { start(ofShift: 0) }

    /// The first instant after the end date, in the roster's zone (midnight after it), or nil when open-ended.
    public var ends: Date? {
        endDate.map { zone.instant($0.adding(days: 1), LocalTime(minutes: 0)!) }
    }

    public func isRunning(at instant: Date) -> Bool {
        instant >= begins && (ends.map { instant < $0 } ?? true)
    }

    /// The shift whose interval holds `instant` (shifts before the start date have negative indexes).
    public func shiftIndex(at instant: Date) -> Int {
        let nominal = Double(lengthDays) * 86_400
        var index = Int(((instant.timeIntervalSince(begins)) / nominal).rounded(.down))
        // Daylight-saving changes move boundaries by hours at most, so the estimate is off by one at most.
        while start(ofShift: index) > instant { index -= 1 }
        while start(ofShift: index + 1) <= instant { index += 1 }
        return index
    }

    /// Shift `index`'s interval, cut at the end date.
    public func interval(ofShift index: Int) -> DateInterval {
        let start = start(ofShift: index)
        var end = self.start(ofShift: index + 1)
        if let ends, end > ends { end = max(start, ends) }
        return DateInterval(start: start, end: end)
    }

    /// Positions of the primary and secondary of shift `index` among `count` members.
    public static func positions(shift index: Int, members count: Int) -> (primary: Int, secondary: Int?)? {
        guard count > 0 else { return nil }
        let primary = ((index % count) + count) % count
        return (primary, count > 1 ? (primary + 1) % count : nil)
    }

    /// The shifts that overlap `window` (cut to the rotation's running time, not to the window).
    public func shifts(overlapping window: DateInterval) -> [(index: Int, interval: DateInterval)] {
        let from = max(window.start, begins)
        let to = ends.map { min(window.end, $0) } ?? window.end
        guard from < to else { return [] }
        var result: [(Int, DateInterval)] = []
        var index = shiftIndex(at: from)
        while true {
            let interval = interval(ofShift: index)
            guard interval.start < to else { break }
            if interval.end > from { result.append((index, interval)) }
            index += 1
        }
        return result
    }
}
