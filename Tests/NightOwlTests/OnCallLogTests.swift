import Foundation
import OwlCore
import OwlTestSupport
import Testing
@testable import NightOwl

/// Who was on call stays what it was: the worker logs each roster's stretches as they pass, and the history reads the
/// log, so changing a roster today does not rewrite last week.
@Suite struct OnCallLogTests {
    static let a = UUID(uuidString: "00000000-0000-4000-8000-00000000000A")!
    static let b = UUID(uuidString: "00000000-0000-4000-8000-00000000000B")!
    static let t0 = Date(timeIntervalSince1970: 1_773_100_800) // a midnight, UTC

    static func seg(_ from: Double, _ to: Double, _ primary: UUID, override: UUID? = nil) -> OnCallSegment {
        OnCallSegment(interval: DateInterval(start: t0.addingTimeInterval(from * 3_600), end: t0.addingTimeInterval(to * 3_600)),
                      primary: primary, secondary: nil, shiftIndex: nil, overrideID: override)
    }

    static func hours(_ segments: [OnCallSegment]) -> [String] {
        segments.map { "\(Int($0.interval.start.timeIntervalSince(t0) / 3_600))-\(Int($0.interval.end.timeIntervalSince(t0) / 3_600)) \($0.primary == a ? "A" : "B")" }
    }

    @Test(arguments: [
        // (the log's last row, the pass's stretches, lengthened to, new rows)
        (nil as OnCallSegment?, [seg(0, 3, a)], nil as Double?, ["0-3 A"]),
        (seg(0, 3, a), [seg(3, 5, a)], 5, []),                          // goes on: the row grows
        (seg(0, 3, a), [seg(3, 5, b)], nil, ["3-5 B"]),                 // a handoff
        (seg(0, 3, a), [seg(3, 4, a), seg(4, 6, b)], 4, ["4-6 B"]),
        (seg(0, 3, a), [seg(3, 4, a, override: UUID())], nil, ["3-4 A"]), // same person, another reason: a row of its own
        (seg(0, 3, a), [seg(5, 6, a)], nil, ["5-6 A"]),                 // after a gap (a long worker outage)
        (nil, [seg(0, 1, b), seg(1, 2, b)], nil, ["0-2 B"]),
    ])
    func aPassExtendsOrAddsRows(last: OnCallSegment?, segments: [OnCallSegment], extendTo: Double?, inserts: [String]) {
        let (extend, added) = OnCallHistory.append(last: last, segments)
        #expect(extend == extendTo.map { Self.t0.addingTimeInterval($0 * 3_600) })
        #expect(Self.hours(added) == inserts)
    }

    /// The log from hour 0 to hour 30 (A 0-10, B 10-20, A 20-30, the last still going on at 30); the configuration
    /// now says B everywhere, in stretches of 10 hours.
    @Test(arguments: [
        (30.0, 4, ["10-20 B", "0-10 A", "-10-0 B", "-20--10 B"]),           // the running row is not over; before the log: computed
        (25, 2, ["10-20 B", "0-10 A"]),
        (20, 10, ["10-20 B", "0-10 A", "-10-0 B", "-20--10 B", "-30--20 B", "-40--30 B"]),
        (35, 3, ["20-30 A", "10-20 B", "0-10 A"]),                          // after the log: B from 30, so A's row ended
        (15, 2, ["0-10 A", "-10-0 B"]),                                     // in the middle of the log
    ])
    func historyReadsTheLogThenComputes(before: Double, count: Int, expected: [String]) {
        let recorded = [Self.seg(0, 10, Self.a), Self.seg(10, 20, Self.b), Self.seg(20, 30, Self.a)].filter {
            $0.interval.start < Self.t0.addingTimeInterval(before * 3_600)
        }
        func computed(_ window: DateInterval) -> [OnCallSegment] {
            stride(from: -40.0, to: 60, by: 10).map { Self.seg($0, $0 + 10, Self.b) }.compactMap { s in
                s.interval.intersection(with: window).flatMap { $0.duration > 0 ? OnCallSegment(interval: $0, primary: s.primary, secondary: nil, shiftIndex: nil) : nil }
            }
        }
        func computedBefore(_ instant: Date, _ n: Int) -> [OnCallSegment] {
            Array(stride(from: -40.0, to: 60, by: 10).map { Self.seg($0, $0 + 10, Self.b) }.filter { $0.interval.end <= instant }.suffix(n).reversed())
        }
        let result = OnCallHistory.completed(recorded: recorded, recordedUntil: Self.t0.addingTimeInterval(30 * 3_600), logComplete: true,
                                             before: Self.t0.addingTimeInterval(before * 3_600), count: count,
                                             computed: computed, computedBefore: computedBefore)
        #expect(Self.hours(result) == expected)
    }

    /// The same log (A 0-10, B 10-20, A 20-30, recorded until 30) and configuration (B in stretches of 10 hours).
    @Test(arguments: [
        (-15.0, 5.0, ["-15--10 B", "-10-0 B", "0-5 A"]),   // before the log: computed, then logged (clipped)
        (5, 25, ["5-10 A", "10-20 B", "20-25 A"]),
        (25, 45, ["25-30 A", "30-40 B", "40-45 B"]),        // after the log: computed
        (40, 50, ["40-50 B"]),
    ])
    func schedulesReadTheLogWhereItIs(from: Double, to: Double, expected: [String]) {
        let log = [Self.seg(0, 10, Self.a), Self.seg(10, 20, Self.b), Self.seg(20, 30, Self.a)]
        let window = DateInterval(start: Self.t0.addingTimeInterval(from * 3_600), end: Self.t0.addingTimeInterval(to * 3_600))
        let result = OnCallHistory.timeline(recorded: log.filter { $0.interval.intersects(window) && $0.interval.end != window.start },
                                            logStart: Self.t0, recordedUntil: Self.t0.addingTimeInterval(30 * 3_600), window: window) { w in
            // Each stretch its own shift (consecutive shifts of one person stay apart, as the rotation has them).
            stride(from: -40.0, to: 60, by: 10).map { Self.seg($0, $0 + 10, Self.b) }.compactMap { s in
                s.interval.intersection(with: w).flatMap {
                    $0.duration > 0 ? OnCallSegment(interval: $0, primary: s.primary, secondary: nil, shiftIndex: Int(s.interval.start.timeIntervalSince1970)) : nil
                }
            }
        }
        #expect(Self.hours(result) == expected)
    }

    @Test func withoutALogTheHistoryIsComputed() {
        let computed = [Self.seg(-10, 0, Self.b)]
        let result = OnCallHistory.completed(recorded: [], recordedUntil: nil, logComplete: true, before: Self.t0, count: 3,
                                             computed: { _ in [] }, computedBefore: { _, _ in computed })
        #expect(result == computed)
    }

    // MARK: Against PostgreSQL

    @Test func changingTheRosterDoesNotRewriteWhoWasOnCall() async throws {
        let f = try await NightOwlFixture.make()
        let clock = DrivenClock(ISO8601DateFormatter().date(from: "2026-03-10T12:00:00Z")!)
        let recorder = OnCallRecorder(database: f.app.database, logger: TestDatabase.logger, now: { clock.now })
        try await f.app.test { client in
            let anna = try await client.createUser(f.key, "Anna"), ben = try await client.createUser(f.key, "Ben"), carl = try await client.createUser(f.key, "Carl")
            let roster = try await client.createRoster(f.key, #"""
                {"name":"Ops","timezone":"UTC","rotation_type":"daily","handoff_time":"09:00","start_date":"2026-01-01","members":["\#(anna)","\#(ben)"]}
                """#)
            func primary(at instant: String) async throws -> String? {
                try await client.call(.get, "/api/v1/rosters/\(roster)/oncall?at=\(instant)", key: f.key).json["primary"]?["user_id"]?.stringValue?.lowercased()
            }
            let day1 = try await primary(at: "2026-03-10T12:00:00Z"), day2 = try await primary(at: "2026-03-11T12:00:00Z")
            #expect(day1 != nil && day2 != nil && day1 != day2)

            try await recorder.run(f.tenant)                       // the log starts with the stretch going on
            clock.advance(to: ISO8601DateFormatter().date(from: "2026-03-11T20:00:00Z")!)
            try await recorder.run(f.tenant)
            clock.advance(to: ISO8601DateFormatter().date(from: "2026-03-12T12:00:00Z")!)
            try await recorder.run(f.tenant)
            try await recorder.run(f.tenant)                       // a second pass at the same instant changes nothing

            // Today the roster is another: Carl first, Ben gone.
            let changed = try await client.call(.put, "/api/v1/rosters/\(roster)/members", key: f.key, json: #"{"user_ids":["\#(carl)","\#(anna)"]}"#)
            #expect(changed.status == .ok, "\(changed.text)")
            #expect([day1, day2].contains(ben.lowercased()), "Ben was on call one of the two days")
            // Asked about the logged days, the answer is still who was on call then, Ben included.
            #expect([try await primary(at: "2026-03-10T12:00:00Z"), try await primary(at: "2026-03-11T12:00:00Z")] == [day1, day2])
            // Before the log began, only the configuration can tell, and it names today's members.
            let before = try await primary(at: "2026-03-09T12:00:00Z")
            #expect([carl.lowercased(), anna.lowercased()].contains(before ?? ""))
            // The schedule of those days reads the log too.
            let schedule = try await client.call(.get, "/api/v1/rosters/\(roster)/schedule?from=2026-03-10T00:00:00Z&to=2026-03-12T00:00:00Z", key: f.key)
            let stretches = schedule.json["items"]?.arrayValue ?? []
            #expect(stretches.map { $0["start"]?.stringValue ?? "" } == ["2026-03-10T00:00:00.000Z", "2026-03-10T09:00:00.000Z", "2026-03-11T09:00:00.000Z"],
                    "\(schedule.text)")
            #expect(stretches.suffix(2).map { $0["primary"]?["user_id"]?.stringValue?.lowercased() } == [day1, day2])

            let history = try await client.call(.get, "/api/v1/rosters/\(roster)/oncall/history?before=2026-03-12T12:00:00Z&limit=4", key: f.key)
            #expect(history.status == .ok, "\(history.text)")
            let items = history.json["items"]?.arrayValue ?? []
            #expect(items.count == 4)
            // The two recorded days, as they were (Ben named though he left the roster), newest first.
            #expect(items.prefix(2).map { $0["primary"]?["user_id"]?.stringValue?.lowercased() } == [day2, day1], "\(history.text)")
            #expect(items.first?["start"]?.stringValue == "2026-03-11T09:00:00.000Z" && items.first?["end"]?.stringValue == "2026-03-12T09:00:00.000Z")
            #expect(items[1]["start"]?.stringValue == "2026-03-10T09:00:00.000Z")
            #expect(items.allSatisfy { $0["primary"]?["display_name"]?.stringValue != nil })
            // Before the log: computed from today's roster.
            #expect(items[2]["end"]?.stringValue == "2026-03-10T09:00:00.000Z")
        }
        let rows = try await f.app.database.withTenant(f.tenant.slug) { connection in
            var n = 0
            for try await count in try await connection.query("SELECT count(*)::integer FROM oncall_log", logger: TestDatabase.logger).decode(Int.self) { n = count }
            return n
        }
        #expect(rows == 3, "one row per stretch: the first day's, the second's, the third's so far")
    }
}
