import Foundation

/// The on-call log's rules (migration 0018): how a pass of the recorder extends it, and how the history joins what
/// was recorded with what is computed before and after it. Pure, so the rules are tested as tables.
enum OnCallHistory {
    /// What a pass writes: `segments` are the stretches since the log's end (clipped to it), in order; one that goes on
    /// from the log's last row (adjacent, same people for the same reason) lengthens that row instead of adding one.
    static func append(last: OnCallSegment?, _ segments: [OnCallSegment]) -> (extendLastTo: Date?, inserts: [OnCallSegment]) {
        var extend: Date?
        var inserts: [OnCallSegment] = []
        for segment in segments where segment.interval.duration > 0 {
            if inserts.isEmpty, let last, last.interval.end == segment.interval.start, last.continues(segment) {
                extend = segment.interval.end
            } else {
                join(&inserts, segment)
            }
        }
        return (extend, inserts)
    }

    /// The last `count` stretches that ended by `before`, newest first.
    /// - Parameters:
    ///   - recorded: the log's rows that started before `before`, in order; the log runs to `recordedUntil`, where its
    ///     last row may still be going on.
    ///   - logComplete: whether `recorded` goes back to the log's first row (else there are enough rows without it).
    ///   - computed: the roster's stretches as its configuration has them, clipped to a window, in order.
    ///   - computedBefore: the `n` stretches the configuration has ending by an instant, newest first.
    static func completed(recorded: [OnCallSegment], recordedUntil: Date?, logComplete: Bool, before: Date, count: Int,
                          computed: (DateInterval) -> [OnCallSegment],
                          computedBefore: (Date, Int) -> [OnCallSegment]) -> [OnCallSegment] {
        guard let recordedUntil, let first = recorded.first else { return computedBefore(before, count) }
        var timeline = recorded
        // After the log's end: computed, joined to the last row when it goes on.
        if before > recordedUntil {
            for segment in computed(DateInterval(start: recordedUntil, end: before.addingTimeInterval(1))) { join(&timeline, segment) }
        }
        // A stretch is over when it ended by `before` and something came after it (the log's last row, or the last
        // computed one, may still be going on).
        var done: [OnCallSegment] = []
        for (index, segment) in timeline.enumerated() where segment.interval.end <= before {
            let followed = index + 1 < timeline.count || (before <= recordedUntil && segment.interval.end < recordedUntil)
            if followed { done.append(segment) }
        }
        var result = Array(done.suffix(count).reversed())
        // Before the log: computed.
        if result.count < count, logComplete {
            result += computedBefore(first.interval.start, count - result.count)
        }
        return result
    }

    /// Who is on call across `window`: the log's rows where it has them (`recorded`: the rows overlapping the window,
    /// in order; the log runs from `logStart` to `recordedUntil`), computed before and after.
    static func timeline(recorded: [OnCallSegment], logStart: Date?, recordedUntil: Date?, window: DateInterval,
                         computed: (DateInterval) -> [OnCallSegment]) -> [OnCallSegment] {
        guard let logStart, let recordedUntil, logStart < recordedUntil else { return computed(window) }
        var result: [OnCallSegment] = []
        if window.start < logStart { result += computed(DateInterval(start: window.start, end: min(window.end, logStart))) }
        for var row in recorded {
            guard let clipped = row.interval.intersection(with: window), clipped.duration > 0 else { continue }
            row.interval = clipped
            join(&result, row)
        }
        if window.end > recordedUntil {
            for segment in computed(DateInterval(start: max(window.start, recordedUntil), end: window.end)) { join(&result, segment) }
        }
        return result
    }

    /// Appends `segment`, or lengthens the last one when it goes on from it.
    static func join(_ timeline: inout [OnCallSegment], _ segment: OnCallSegment) {
        if var previous = timeline.last, previous.interval.end == segment.interval.start, previous.continues(segment) {
            previous.interval = DateInterval(start: previous.interval.start, end: segment.interval.end)
            timeline[timeline.count - 1] = previous
        } else {
            timeline.append(segment)
        }
    }
}
