import Foundation
import OwlCore

/// Who is on call, as plain functions of an `OnCallPlan`.
///
/// Rules, in order:
/// 1. Nobody is on call before the roster's first handoff or after its end date.
/// 2. A standard roster follows its rotation (see `Rotation`).
/// 3. A follow-the-sun roster hands over to a sub-roster when that sub-roster's local window opens: at any instant the
///    sub-roster whose window opened most recently covers it. So where windows overlap, the one opening later takes
///    over at its opening time; where they leave a gap, the sub-roster that covered last keeps covering until the next
///    window opens (marked `inCoverageWindow == false`), so there is never a moment without a primary. Within the
///    stretch it covers, the sub-roster's own rotation and overrides say who.
/// 4. Overrides replace the primary for exactly their interval (cut to the roster's running time). Where overrides
///    overlap, the one created last wins. The secondary stays the rotation's, unless that is the override's user, in
///    which case the displaced primary becomes secondary.
public enum OnCallTimeline {
    /// The stretches of `window`, in order, without gaps where someone is on call.
    public static func segments(_ plan: OnCallPlan, in window: DateInterval) -> [OnCallSegment] {
        let running = DateInterval(start: plan.rotation.begins, end: plan.rotation.ends ?? .distantFuture)
        guard let window = window.intersection(with: running), window.duration > 0 else { return [] }
        let base = plan.isFollowTheSun ? followTheSun(plan, in: window) : rotation(plan, in: window)
        return merged(applying(plan.overrides, to: base, in: window))
    }

    /// The stretch that holds `instant`, with its full bounds (not cut at a search window), or nil if nobody is on call.
    public static func segment(_ plan: OnCallPlan, at instant: Date) -> OnCallSegment? {
        var span = Double(max(plan.longestShiftDays, 1) + 2) * 86_400
        while true {
            let window = DateInterval(start: instant.addingTimeInterval(-span), end: instant.addingTimeInterval(span))
            guard let found = segments(plan, in: window).first(where: { $0.interval.contains(instant) && $0.interval.end != instant })
            else { return nil }
            let cutAtStart = found.interval.start == window.start
            let cutAtEnd = found.interval.end == window.end
            if (!cutAtStart && !cutAtEnd) || span > 800 * 86_400 { return found }
            span *= 4
        }
    }

    /// The last `count` stretches that ended at or before `instant`, most recent first.
    public static func completed(_ plan: OnCallPlan, before instant: Date, count: Int) -> [OnCallSegment] {
        var span = Double(max(plan.longestShiftDays, 1) * (count + 1)) * 86_400
        while true {
            // The window reaches past `instant` so that the stretch running at `instant` is not mistaken for a finished one.
            let window = DateInterval(start: instant.addingTimeInterval(-span), end: instant.addingTimeInterval(1))
            let done = segments(plan, in: window).filter { $0.interval.end <= instant && $0.interval.start > window.start }
            if done.count >= count || window.start < plan.rotation.begins || span > 3_000 * 86_400 {
                return Array(done.suffix(count).reversed())
            }
            span *= 2
        }
    }

    // MARK: - Building blocks

    static func rotation(_ plan: OnCallPlan, in window: DateInterval) -> [OnCallSegment] {
        plan.rotation.shifts(overlapping: window).compactMap { shift in
            guard let positions = Rotation.positions(shift: shift.index, members: plan.members.count),
                  let interval = shift.interval.intersection(with: window), interval.duration > 0 else { return nil }
            return OnCallSegment(interval: interval, primary: plan.members[positions.primary],
                                 secondary: positions.secondary.map { plan.members[$0] }, shiftIndex: shift.index)
        }
    }

    /// The follow-the-sun handoffs (rule 3), then each sub-roster's own timeline inside the stretch it covers.
    static func followTheSun(_ plan: OnCallPlan, in window: DateInterval) -> [OnCallSegment] {
        let subs = plan.subRosters
        // Window openings from two days before the window, so the one already open at its start is known.
        var openings: [(at: Date, sub: Int, closes: Date)] = []
        for (index, sub) in subs.enumerated() {
            let zone = sub.plan.rotation.zone
            var day = zone.local(window.start).date.adding(days: -2)
            let last = zone.local(window.end).date.adding(days: 1)
            while day <= last {
                let opens = zone.instant(day, sub.coverageStart)
                let closes = zone.instant(day.adding(days: sub.coverageMinutes == 1440 ? 1 : (sub.coverageEnd <= sub.coverageStart ? 1 : 0)), sub.coverageEnd)
                openings.append((opens, index, closes))
                day = day.adding(days: 1)
            }
        }
        // Ties go to the sub-roster listed first.
        openings.sort { $0.at != $1.at ? $0.at < $1.at : $0.sub > $1.sub }
        var result: [OnCallSegment] = []
        for (position, opening) in openings.enumerated() {
            let next = position + 1 < openings.count ? openings[position + 1].at : window.end
            guard next > opening.at, let covered = DateInterval(start: opening.at, end: next).intersection(with: window),
                  covered.duration > 0 else { continue }
            let sub = subs[opening.sub]
            for piece in segments(sub.plan, in: covered) {
                // Split at the window's close: after it the sub-roster only fills a gap.
                for (part, inside) in split(piece.interval, at: opening.closes) {
                    var segment = piece
                    segment.interval = part
                    segment.subRoster = opening.sub
                    segment.inCoverageWindow = inside
                    result.append(segment)
                }
            }
        }
        return result
    }

    static func split(_ interval: DateInterval, at instant: Date) -> [(DateInterval, Bool)] {
        if instant <= interval.start { return [(interval, false)] }
        if instant >= interval.end { return [(interval, true)] }
        return [(DateInterval(start: interval.start, end: instant), true), (DateInterval(start: instant, end: interval.end), false)]
    }

    /// Rule 4, by sweeping over every boundary of the base stretches and the overrides.
    static func applying(_ overrides: [OverrideSpan], to base: [OnCallSegment], in window: DateInterval) -> [OnCallSegment] {
        let relevant = overrides.filter { $0.interval.intersects(window) && $0.interval.duration > 0 }
            .sorted { ($0.createdAt, $0.id.uuidString) < ($1.createdAt, $1.id.uuidString) }
        guard !relevant.isEmpty else { return base }
        var bounds = Set<Date>()
        for segment in base { bounds.insert(segment.interval.start); bounds.insert(segment.interval.end) }
        for override in relevant {
            bounds.insert(max(override.interval.start, window.start))
            bounds.insert(min(override.interval.end, window.end))
        }
        let points = bounds.sorted()
        var result: [OnCallSegment] = []
        var baseIndex = 0
        for (from, to) in zip(points, points.dropFirst()) {
            let piece = DateInterval(start: from, end: to)
            while baseIndex < base.count, base[baseIndex].interval.end <= from { baseIndex += 1 }
            let under = baseIndex < base.count && base[baseIndex].interval.start <= from ? base[baseIndex] : nil
            let winner = relevant.last { $0.interval.start <= from && $0.interval.end >= to }
            if let winner {
                var segment = under ?? OnCallSegment(interval: piece, primary: winner.userID)
                segment.interval = piece
                if segment.secondary == winner.userID, let under { segment.secondary = under.primary == winner.userID ? nil : under.primary }
                segment.primary = winner.userID
                segment.overrideID = winner.id
                result.append(segment)
            } else if var under {
                under.interval = piece
                result.append(under)
            }
        }
        return result
    }

    static func merged(_ segments: [OnCallSegment]) -> [OnCallSegment] {
        var result: [OnCallSegment] = []
        for segment in segments {
            if var last = result.last, last.interval.end == segment.interval.start, last.continues(segment) {
                last.interval = DateInterval(start: last.interval.start, end: segment.interval.end)
                result[result.count - 1] = last
            } else {
                result.append(segment)
            }
        }
        return result
    }
}

extension OnCallPlan {
    var longestShiftDays: Int {
        ([rotation.lengthDays] + subRosters.map(\.plan.longestShiftDays)).max() ?? 1
    }
}
