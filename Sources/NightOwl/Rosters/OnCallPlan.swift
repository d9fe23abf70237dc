import Foundation
import OwlCore

/// Everything needed to say who is on call for a roster, loaded once from the database: pure data, so the rules below
/// are plain functions with table-driven and property tests.
public struct OnCallPlan: Sendable {
    public var rosterID: UUID
    public var rotation: Rotation
    /// Members in rotation order (user ids).
    public var members: [UUID]
    public var overrides: [OverrideSpan]
    /// Follow-the-sun sub-rosters; when present the roster's own members are not used.
    public var subRosters: [SubRosterPlan]

    public init(rosterID: UUID, rotation: Rotation, members: [UUID], overrides: [OverrideSpan] = [], subRosters: [SubRosterPlan] = []) {
        self.rosterID = rosterID
        self.rotation = rotation
        self.members = members
        self.overrides = overrides
        self.subRosters = subRosters
    }

    public var isFollowTheSun: Bool { !subRosters.isEmpty }
}

/// A sub-roster of a follow-the-sun roster: its own rotation (zone, handoff, members, overrides) and the local window
/// of the day it covers, for example 08:00–20:00 Pacific/Auckland.
public struct SubRosterPlan: Sendable {
    public var name: String
    public var coverageStart: LocalTime
    public var coverageEnd: LocalTime
    public var plan: OnCallPlan

    public init(name: String, coverageStart: LocalTime, coverageEnd: LocalTime, plan: OnCallPlan) {
        self.name = name
        self.coverageStart = coverageStart
        self.coverageEnd = coverageEnd
        self.plan = plan
    }

    /// Length of the window in minutes; equal start and end mean the whole day.
    var coverageMinutes: Int {
        let length = (coverageEnd.minutes - coverageStart.minutes + 1440) % 1440
        return length == 0 ? 1440 : length
    }
}

/// An override: `userID` is on call from `interval.start` to `interval.end`, whatever the rotation says.
public struct OverrideSpan: Sendable, Hashable {
    public var id: UUID
    public var userID: UUID
    public var interval: DateInterval
    public var reason: String
    /// Where overrides overlap, the one created last wins for the overlapping time.
    public var createdAt: Date

    public init(id: UUID, userID: UUID, interval: DateInterval, reason: String = "", createdAt: Date) {
        self.id = id
        self.userID = userID
        self.interval = interval
        self.reason = reason
        self.createdAt = createdAt
    }
}

/// A stretch of time with one primary (and maybe a secondary) on call, and what produced it.
public struct OnCallSegment: Sendable, Hashable {
    public var interval: DateInterval
    public var primary: UUID
    public var secondary: UUID?
    /// The rotation shift number (of the sub-roster, for follow-the-sun) this stretch belongs to, if any.
    public var shiftIndex: Int?
    /// The override that put `primary` on call, if one did.
    public var overrideID: UUID?
    /// The follow-the-sun sub-roster that covers this stretch (its index in the plan), if any.
    public var subRoster: Int?
    /// False when a follow-the-sun sub-roster covers a gap between windows outside its own window.
    public var inCoverageWindow: Bool = true

    /// Same people for the same reason: adjacent segments with equal keys are one.
    func continues(_ other: OnCallSegment) -> Bool {
        primary == other.primary && secondary == other.secondary && shiftIndex == other.shiftIndex
            && overrideID == other.overrideID && subRoster == other.subRoster && inCoverageWindow == other.inCoverageWindow
    }
}
