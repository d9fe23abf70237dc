import Foundation
import OwlCore

/// An on-call roster as stored and shown.
public struct Roster: Sendable, Equatable, Encodable {
    public var id: UUID
    public var parentID: UUID?
    public var name: String
    public var description: String
    public var timezone: String
    public var rotationType: RotationKind
    public var rotationLengthDays: Int
    public var handoffTime: LocalTime
    public var startDate: LocalDate
    public var endDate: LocalDate?
    public var isFollowTheSun: Bool
    public var coverageStart: LocalTime?
    public var coverageEnd: LocalTime?
    public var slackChannel: String?
    public var createdAt: Date
    public var updatedAt: Date
    /// Filled for responses: members in order, and sub-rosters of a follow-the-sun roster.
    public var members: [RosterMember] = []
    public var subRosters: [Roster] = []

    public var zone: Zone { Zone(identifier: timezone) ?? .utc }

    public var rotation: Rotation {
        Rotation(zone: zone, startDate: startDate, handoff: handoffTime, lengthDays: rotationLengthDays, endDate: endDate)
    }

    /// Not past its end date (a roster that has not started yet is active: it is scheduled).
    public func isActive(at instant: Date) -> Bool { rotation.ends.map { instant < $0 } ?? true }

    enum CodingKeys: String, CodingKey {
        case id, name, description, timezone, members, coverage
        case parentID = "parent_id", rotationType = "rotation_type", rotationLengthDays = "rotation_length_days"
        case handoffTime = "handoff_time", startDate = "start_date", endDate = "end_date", isFollowTheSun = "is_follow_the_sun"
        case slackChannel = "slack_channel", createdAt = "created_at", updatedAt = "updated_at", subRosters = "sub_rosters"
        case isActive = "is_active"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(parentID, forKey: .parentID)
        try c.encode(name, forKey: .name)
        try c.encode(description, forKey: .description)
        try c.encode(timezone, forKey: .timezone)
        try c.encode(rotationType, forKey: .rotationType)
        try c.encode(rotationLengthDays, forKey: .rotationLengthDays)
        try c.encode(handoffTime.description, forKey: .handoffTime)
        try c.encode(startDate.description, forKey: .startDate)
        try c.encode(endDate?.description, forKey: .endDate)
        try c.encode(isFollowTheSun, forKey: .isFollowTheSun)
        try c.encode(isActive(at: try encoder.instant()), forKey: .isActive)
        if let coverageStart, let coverageEnd {
            try c.encode(["start": coverageStart.description, "end": coverageEnd.description], forKey: .coverage)
        } else {
            try c.encodeNil(forKey: .coverage)
        }
        try c.encode(slackChannel, forKey: .slackChannel)
        try c.encode(members, forKey: .members)
        if isFollowTheSun { try c.encode(subRosters, forKey: .subRosters) }
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
    }
}

/// A member of a roster, in rotation order.
public struct RosterMember: Sendable, Equatable, Encodable {
    public var userID: UUID
    public var position: Int
    public var displayName: String
    public var email: String
    public var timezone: String
    public var isActive: Bool

    enum CodingKeys: String, CodingKey {
        case position, email, timezone
        case userID = "user_id", displayName = "display_name", isActive = "is_active"
    }
}

/// An override as stored and shown.
public struct RosterOverride: Sendable, Equatable, Encodable {
    public var id: UUID
    public var rosterID: UUID
    public var userID: UUID
    public var displayName: String
    public var start: Date
    public var end: Date
    public var reason: String
    public var createdBy: String
    public var createdAt: Date

    var span: OverrideSpan {
        OverrideSpan(id: id, userID: userID, interval: DateInterval(start: start, end: end), reason: reason, createdAt: createdAt)
    }

    enum CodingKeys: String, CodingKey {
        case id, start, end, reason
        case rosterID = "roster_id", userID = "user_id", displayName = "display_name", createdBy = "created_by", createdAt = "created_at"
    }
}
