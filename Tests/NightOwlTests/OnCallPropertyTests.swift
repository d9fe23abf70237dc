import Foundation
import OwlCore
import Testing
@testable import NightOwl

/// A small deterministic generator (SplitMix64), so a failing case can be replayed from its seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Properties over many generated rosters and instants.
@Suite struct OnCallPropertyTests {
    static let zones = ["Europe/Berlin", "Pacific/Auckland", "America/New_York", "UTC", "Asia/Kolkata", "Australia/Lord_Howe",
                        "America/Sao_Paulo", "Pacific/Chatham"]
    static let people = (0..<6).map { UUID(uuidString: "00000000-0000-0000-0000-00000000010\($0)")! }

    static func rotation(_ rng: inout SeededGenerator) -> Rotation {
        let start = LocalDate(daysSinceEpoch: Int.random(in: 20_000...20_800, using: &rng))
        let end: LocalDate? = Bool.random(using: &rng) ? nil : start.adding(days: Int.random(in: 30...400, using: &rng))
        return Rotation(zone: Zone(identifier: zones.randomElement(using: &rng)!)!, startDate: start,
                        handoff: LocalTime(minutes: Int.random(in: 0..<96, using: &rng) * 15)!,
                        lengthDays: [1, 7, 7, 14, Int.random(in: 1...30, using: &rng)].randomElement(using: &rng)!, endDate: end)
    }

    static func members(_ rng: inout SeededGenerator) -> [UUID] {
        Array(people.shuffled(using: &rng).prefix(Int.random(in: 1...5, using: &rng)))
    }

    static func overrides(_ rng: inout SeededGenerator, near rotation: Rotation) -> [OverrideSpan] {
        (0..<Int.random(in: 0...4, using: &rng)).map { n in
            let start = rotation.begins.addingTimeInterval(Double(Int.random(in: -5...200, using: &rng)) * 3_600 * 7)
            return OverrideSpan(id: UUID(), userID: people.randomElement(using: &rng)!,
                                interval: DateInterval(start: start, duration: Double(Int.random(in: 1...240, using: &rng)) * 1_800),
                                createdAt: Date(timeIntervalSince1970: Double(Int.random(in: 0...1_000, using: &rng) * 10 + n)))
        }
    }

    static func plan(_ rng: inout SeededGenerator) -> OnCallPlan {
        let rotation = rotation(&rng)
        var plan = OnCallPlan(rosterID: UUID(), rotation: rotation, members: members(&rng))
        if Int.random(in: 0..<3, using: &rng) == 0 {
            // Sub-rosters start no later than the parent, so they run whenever it does.
            plan.subRosters = (0..<Int.random(in: 1...3, using: &rng)).map { n in
                var sub = self.rotation(&rng)
                sub.startDate = rotation.startDate.adding(days: -Int.random(in: 2...60, using: &rng))
                sub.endDate = nil
                return SubRosterPlan(name: "sub-\(n)", coverageStart: LocalTime(minutes: Int.random(in: 0..<48, using: &rng) * 30)!,
                                     coverageEnd: LocalTime(minutes: Int.random(in: 0..<48, using: &rng) * 30)!,
                                     plan: OnCallPlan(rosterID: UUID(), rotation: sub, members: members(&rng),
                                                      overrides: overrides(&rng, near: sub)))
            }
        }
        plan.overrides = overrides(&rng, near: rotation)
        return plan
    }

    /// Shifts are contiguous and cover exactly the roster's running time in the window: one primary at every instant.
    @Test(arguments: 0..<40)
    func segmentsTileTheRunningTime(seed: Int) {
        var rng = SeededGenerator(state: UInt64(seed) &* 7919)
        for _ in 0..<10 {
            let plan = Self.plan(&rng)
            let from = plan.rotation.begins.addingTimeInterval(Double(Int.random(in: -20...400, using: &rng)) * 86_400 / 3)
            let window = DateInterval(start: from, duration: Double(Int.random(in: 1...60, using: &rng)) * 86_400)
            let segments = OnCallTimeline.segments(plan, in: window)
            let running = DateInterval(start: plan.rotation.begins, end: plan.rotation.ends ?? .distantFuture)
            guard let expected = window.intersection(with: running), expected.duration > 0 else {
                #expect(segments.isEmpty)
                continue
            }
            #expect(segments.first?.interval.start == expected.start, "seed \(seed)")
            #expect(segments.last?.interval.end == expected.end, "seed \(seed)")
            for (a, b) in zip(segments, segments.dropFirst()) {
                #expect(a.interval.end == b.interval.start, "gap or overlap, seed \(seed)")
                #expect(!a.continues(b), "unmerged neighbours, seed \(seed)")
            }
            #expect(segments.allSatisfy { $0.interval.duration > 0 && $0.primary != $0.secondary })
        }
    }

    /// Asking for one instant agrees with the timeline, and finds exactly one primary while the roster runs.
    @Test(arguments: 0..<40)
    func instantAgreesWithTimeline(seed: Int) {
        var rng = SeededGenerator(state: UInt64(seed) &* 104_729)
        for _ in 0..<10 {
            let plan = Self.plan(&rng)
            let instant = plan.rotation.begins.addingTimeInterval(Double(Int.random(in: -86_400...40_000_000, using: &rng)))
            let found = OnCallTimeline.segment(plan, at: instant)
            #expect((found != nil) == plan.rotation.isRunning(at: instant), "seed \(seed)")
            guard let found else { continue }
            #expect(found.interval.contains(instant) && found.interval.end > instant)
            let around = OnCallTimeline.segments(plan, in: DateInterval(start: found.interval.start, end: found.interval.end))
            #expect(around.count == 1 && around.first?.primary == found.primary, "seed \(seed)")
        }
    }

    /// The override created last is on call for all of its interval (within the running roster) and nowhere else
    /// because of itself.
    @Test(arguments: 0..<40)
    func lastOverrideOwnsItsInterval(seed: Int) {
        var rng = SeededGenerator(state: UInt64(seed) &* 15_485_863)
        for _ in 0..<10 {
            var plan = Self.plan(&rng)
            let newest = OverrideSpan(id: UUID(), userID: Self.people.randomElement(using: &rng)!,
                                      interval: DateInterval(start: plan.rotation.begins.addingTimeInterval(Double(Int.random(in: 0...500, using: &rng)) * 3_600),
                                                             duration: Double(Int.random(in: 1...200, using: &rng)) * 3_600),
                                      createdAt: Date(timeIntervalSince1970: 1_000_000))
            plan.overrides.append(newest)
            let window = DateInterval(start: newest.interval.start.addingTimeInterval(-86_400 * 3), end: newest.interval.end.addingTimeInterval(86_400 * 3))
            for segment in OnCallTimeline.segments(plan, in: window) {
                let inside = segment.interval.intersection(with: newest.interval).map { $0.duration > 0 } ?? false
                if inside {
                    #expect(segment.interval.start >= newest.interval.start && segment.interval.end <= newest.interval.end, "seed \(seed)")
                    #expect(segment.primary == newest.userID && segment.overrideID == newest.id, "seed \(seed)")
                } else {
                    #expect(segment.overrideID != newest.id, "seed \(seed)")
                }
            }
        }
    }

    /// Consecutive shifts of a rotation touch, and last their nominal length give or take a daylight-saving jump.
    @Test(arguments: 0..<20)
    func shiftsAreContiguous(seed: Int) {
        var rng = SeededGenerator(state: UInt64(seed) &* 31)
        let rotation = Self.rotation(&rng)
        for index in -3..<120 {
            let shift = rotation.interval(ofShift: index)
            let next = rotation.start(ofShift: index + 1)
            #expect(rotation.start(ofShift: index) < next)
            #expect(abs(next.timeIntervalSince(shift.start) - Double(rotation.lengthDays) * 86_400) <= 3_600, "seed \(seed)")
            #expect(rotation.shiftIndex(at: shift.start) == index)
            #expect(rotation.shiftIndex(at: next.addingTimeInterval(-1)) == index)
        }
    }
}
