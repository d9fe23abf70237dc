import Foundation
import OwlCore
import Testing
@testable import NightOwl

let alice = UUID(uuidString: "00000000-0000-0000-0000-00000000000A")!
let bob = UUID(uuidString: "00000000-0000-0000-0000-00000000000B")!
let carol = UUID(uuidString: "00000000-0000-0000-0000-00000000000C")!
let hans = UUID(uuidString: "00000000-0000-0000-0000-0000000000A1")!
let katja = UUID(uuidString: "00000000-0000-0000-0000-0000000000A2")!
let dave = UUID(uuidString: "00000000-0000-0000-0000-0000000000D0")!

func weekly(_ zoneID: String = "Europe/Berlin", start: String = "2026-01-05", members: [UUID] = [alice, bob, carol],
            overrides: [OverrideSpan] = []) -> OnCallPlan {
    OnCallPlan(rosterID: UUID(), rotation: Rotation(zone: zone(zoneID), startDate: date(start), handoff: time("08:00"), lengthDays: 7),
               members: members, overrides: overrides)
}

func override(_ user: UUID, _ from: String, _ to: String, created: Int = 0) -> OverrideSpan {
    OverrideSpan(id: UUID(), userID: user, interval: DateInterval(start: utc(from), end: utc(to)),
                 createdAt: Date(timeIntervalSince1970: Double(created)))
}

/// The spec's "Global Primary": APAC (Pacific/Auckland, 08:00–20:00) and EMEA (Europe/Berlin, 08:00–20:00).
func globalPrimary() -> OnCallPlan {
    let apac = OnCallPlan(rosterID: UUID(), rotation: Rotation(zone: zone("Pacific/Auckland"), startDate: date("2026-01-05"),
                                                               handoff: time("08:00"), lengthDays: 7), members: [alice, bob])
    let emea = OnCallPlan(rosterID: UUID(), rotation: Rotation(zone: zone("Europe/Berlin"), startDate: date("2026-01-05"),
                                                               handoff: time("08:00"), lengthDays: 7), members: [hans, katja])
    return OnCallPlan(rosterID: UUID(), rotation: Rotation(zone: .utc, startDate: date("2026-01-06"), handoff: time("00:00"), lengthDays: 1),
                      members: [], subRosters: [
                          SubRosterPlan(name: "APAC", coverageStart: time("08:00"), coverageEnd: time("20:00"), plan: apac),
                          SubRosterPlan(name: "EMEA", coverageStart: time("08:00"), coverageEnd: time("20:00"), plan: emea),
                      ])
}

@Suite struct OnCallTimelineTests {
    @Test(arguments: [
        ("2026-01-05T06:59:00Z", nil as UUID?, nil as UUID?),
        ("2026-01-05T07:00:00Z", alice, bob), ("2026-01-12T06:59:59Z", alice, bob),
        ("2026-01-12T07:00:00Z", bob, carol), ("2026-01-19T07:00:00Z", carol, alice), ("2026-01-26T07:00:00Z", alice, bob),
        ("2026-04-01T12:00:00Z", alice, bob), // shift 12 began 2026-03-30 08:00 CEST
    ])
    func weeklyRotation(at: String, primary: UUID?, secondary: UUID?) {
        let segment = OnCallTimeline.segment(weekly(), at: utc(at))
        #expect(segment?.primary == primary)
        #expect(segment?.secondary == secondary)
    }

    @Test func shiftBoundsAreTheShiftsOwn() {
        let segment = OnCallTimeline.segment(weekly(), at: utc("2026-03-31T00:00:00Z"))
        #expect(segment?.interval == DateInterval(start: utc("2026-03-30T06:00:00Z"), end: utc("2026-04-06T06:00:00Z")))
        #expect(segment?.shiftIndex == 12)
    }

    /// Follow-the-sun in July (NZST +12, CEST +2): APAC 20:00–08:00 UTC, EMEA 06:00–18:00 UTC, so they overlap from
    /// 06:00 to 08:00 UTC (EMEA, opening later, takes over) and leave a gap from 18:00 to 20:00 UTC (EMEA stays on).
    /// 2026-07-13 starts shift 27 of both weekly rotations: Bob for APAC, Katja for EMEA.
    @Test(arguments: [
        ("2026-07-15T05:00:00Z", bob, "APAC", true),
        ("2026-07-15T05:59:59Z", bob, "APAC", true),
        ("2026-07-15T06:00:00Z", katja, "EMEA", true),
        ("2026-07-15T07:30:00Z", katja, "EMEA", true),
        ("2026-07-15T12:00:00Z", katja, "EMEA", true),
        ("2026-07-15T18:30:00Z", katja, "EMEA", false),
        ("2026-07-15T20:00:00Z", bob, "APAC", true),
        ("2026-07-16T02:00:00Z", bob, "APAC", true),
    ])
    func followTheSun(at: String, primary: UUID, sub: String, inWindow: Bool) {
        let plan = globalPrimary()
        let segment = OnCallTimeline.segment(plan, at: utc(at))
        #expect(segment?.primary == primary)
        #expect(segment.flatMap { $0.subRoster.map { plan.subRosters[$0].name } } == sub)
        #expect(segment?.inCoverageWindow == inWindow)
    }

    @Test func followTheSunDayHasFourHandoffPoints() {
        let segments = OnCallTimeline.segments(globalPrimary(), in: DateInterval(start: utc("2026-07-15T00:00:00Z"), end: utc("2026-07-16T00:00:00Z")))
        #expect(segments.map(\.interval.start) == [utc("2026-07-15T00:00:00Z"), utc("2026-07-15T06:00:00Z"),
                                                    utc("2026-07-15T18:00:00Z"), utc("2026-07-15T20:00:00Z")])
    }

    @Test func overrideReplacesExactlyItsInterval() {
        let plan = weekly(overrides: [override(dave, "2026-01-07T10:00:00Z", "2026-01-08T10:00:00Z")])
        let segments = OnCallTimeline.segments(plan, in: DateInterval(start: utc("2026-01-06T00:00:00Z"), end: utc("2026-01-10T00:00:00Z")))
        #expect(segments.map(\.primary) == [alice, dave, alice])
        #expect(segments[1].interval == DateInterval(start: utc("2026-01-07T10:00:00Z"), end: utc("2026-01-08T10:00:00Z")))
        #expect(segments[1].overrideID == plan.overrides[0].id)
        #expect(segments[1].secondary == bob)
    }

    /// Overlapping overrides: the one created last wins where they overlap; the other keeps the rest of its interval.
    @Test func laterOverrideWinsTheOverlap() {
        let first = override(dave, "2026-01-07T00:00:00Z", "2026-01-09T00:00:00Z", created: 1)
        let second = override(carol, "2026-01-08T00:00:00Z", "2026-01-10T00:00:00Z", created: 2)
        for order in [[first, second], [second, first]] {
            let segments = OnCallTimeline.segments(weekly(overrides: order), in: DateInterval(start: utc("2026-01-06T00:00:00Z"), end: utc("2026-01-11T00:00:00Z")))
            #expect(segments.map(\.primary) == [alice, dave, carol, alice])
            #expect(segments[2].interval.start == utc("2026-01-08T00:00:00Z"))
        }
    }

    @Test func overrideBySecondaryMakesDisplacedPrimaryTheSecondary() {
        let plan = weekly(overrides: [override(bob, "2026-01-07T00:00:00Z", "2026-01-08T00:00:00Z")])
        let segment = OnCallTimeline.segment(plan, at: utc("2026-01-07T12:00:00Z"))
        #expect(segment?.primary == bob)
        #expect(segment?.secondary == alice)
    }

    @Test func overrideOutsideTheRunningRosterIsIgnored() {
        let plan = weekly(overrides: [override(dave, "2026-01-01T00:00:00Z", "2026-01-05T12:00:00Z")])
        #expect(OnCallTimeline.segment(plan, at: utc("2026-01-03T00:00:00Z")) == nil)
        #expect(OnCallTimeline.segment(plan, at: utc("2026-01-05T08:00:00Z"))?.primary == dave)
        #expect(OnCallTimeline.segment(plan, at: utc("2026-01-05T08:00:00Z"))?.interval.start == utc("2026-01-05T07:00:00Z"))
    }

    @Test func historyListsCompletedShiftsMostRecentFirst() {
        let plan = weekly(overrides: [override(dave, "2026-02-03T00:00:00Z", "2026-02-04T00:00:00Z")])
        let done = OnCallTimeline.completed(plan, before: utc("2026-02-10T12:00:00Z"), count: 10)
        #expect(done.count == 7) // five weekly shifts, one split in three by the override
        #expect(done.first?.interval.end == utc("2026-02-09T07:00:00Z"))
        #expect(done.map(\.primary).prefix(4) == [bob, dave, bob, alice])
        #expect(done.last?.interval.start == utc("2026-01-05T07:00:00Z"))
    }
}
