import Foundation
import OwlCore

/// A person on call, as the API shows them: with their own zone and the local time there.
struct OnCallPerson: Encodable, Sendable {
    var user: User
    var at: Date

    enum CodingKeys: String, CodingKey {
        case email, timezone, phone
        case userID = "user_id", displayName = "display_name", localTime = "local_time", slackUserID = "slack_user_id"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(user.id, forKey: .userID)
        try c.encode(user.displayName, forKey: .displayName)
        try c.encode(user.email, forKey: .email)
        try c.encode(user.timezone, forKey: .timezone)
        try c.encode((Zone(identifier: user.timezone) ?? .utc).rfc3339(at), forKey: .localTime)
        try c.encode(user.phone, forKey: .phone)
        try c.encode(user.slackUserID, forKey: .slackUserID)
    }
}

/// One stretch of on-call time with who, when (UTC and the roster's local time) and why.
struct ShiftView: Encodable, Sendable {
    var segment: OnCallSegment
    var roster: Roster
    var people: [UUID: User]
    var overrides: [UUID: OverrideSpan]
    /// The instant local times of people are shown for.
    var at: Date

    enum CodingKeys: String, CodingKey {
        case start, end, primary, secondary, source, override
        case startLocal = "start_local", endLocal = "end_local", shiftNumber = "shift_number", subRoster = "sub_roster"
    }

    var subRoster: Roster? { segment.subRoster.flatMap { roster.subRosters.indices.contains($0) ? roster.subRosters[$0] : nil } }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        let zone = (subRoster ?? roster).zone
        try c.encode(segment.interval.start, forKey: .start)
        try c.encode(segment.interval.end, forKey: .end)
        try c.encode(zone.rfc3339(segment.interval.start), forKey: .startLocal)
        try c.encode(zone.rfc3339(segment.interval.end), forKey: .endLocal)
        try c.encode(segment.shiftIndex, forKey: .shiftNumber)
        try c.encode(people[segment.primary].map { OnCallPerson(user: $0, at: at) }, forKey: .primary)
        try c.encode(segment.secondary.flatMap { people[$0] }.map { OnCallPerson(user: $0, at: at) }, forKey: .secondary)
        try c.encode(segment.overrideID == nil ? "rotation" : "override", forKey: .source)
        if let id = segment.overrideID, let span = overrides[id] {
            try c.encode(["id": id.uuidString, "reason": span.reason], forKey: .override)
        } else {
            try c.encodeNil(forKey: .override)
        }
        if let sub = subRoster {
            try c.encode(SubRosterRef(id: sub.id, name: sub.name, timezone: sub.timezone, inCoverageWindow: segment.inCoverageWindow),
                         forKey: .subRoster)
        } else {
            try c.encodeNil(forKey: .subRoster)
        }
    }

    struct SubRosterRef: Encodable {
        var id: UUID
        var name: String
        var timezone: String
        var inCoverageWindow: Bool
        enum CodingKeys: String, CodingKey { case id, name, timezone, inCoverageWindow = "in_coverage_window" }
    }
}

/// The answer of `GET /api/v1/rosters/{id}/oncall`.
struct OnCallAnswer: Encodable, Sendable {
    var roster: Roster
    var at: Date
    var shift: ShiftView?

    enum CodingKeys: String, CodingKey {
        case at, primary, secondary, shift
        case rosterID = "roster_id", rosterName = "roster_name", timezone, isActive = "is_active", isFollowTheSun = "is_follow_the_sun"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(roster.id, forKey: .rosterID)
        try c.encode(roster.name, forKey: .rosterName)
        try c.encode(roster.timezone, forKey: .timezone)
        try c.encode(at, forKey: .at)
        try c.encode(roster.rotation.isRunning(at: at), forKey: .isActive)
        try c.encode(roster.isFollowTheSun, forKey: .isFollowTheSun)
        try c.encode(shift.flatMap { s in s.people[s.segment.primary].map { OnCallPerson(user: $0, at: at) } }, forKey: .primary)
        try c.encode(shift.flatMap { s in s.segment.secondary.flatMap { s.people[$0] }.map { OnCallPerson(user: $0, at: at) } }, forKey: .secondary)
        try c.encode(shift, forKey: .shift)
    }
}
