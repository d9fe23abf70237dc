import Foundation
import OwlCore

/// Body of `POST /api/v1/rosters` and `PUT /api/v1/rosters/{id}` (on PUT, fields present are changed; members are
/// managed through `/members`). A follow-the-sun roster is created with its `sub_rosters`; a sub-roster can also be
/// added later with `parent_id`.
struct RosterInput: Decodable, Sendable {
    var name: String?
    var description: String?
    var timezone: String?
    var rotationType: RotationKind?
    var rotationLengthDays: Int?
    var handoffTime: String?
    var startDate: String?
    var endDate: Patch<String> = .keep
    var slackChannel: Patch<String> = .keep
    var isFollowTheSun: Bool?
    var members: [UUID]?
    var subRosters: [RosterInput]?
    var parentID: UUID?
    var coverage: CoverageInput?

    struct CoverageInput: Decodable, Sendable {
        var start: String
        var end: String
    }

    enum CodingKeys: String, CodingKey {
        case name, description, timezone, members, coverage
        case rotationType = "rotation_type", rotationLengthDays = "rotation_length_days", handoffTime = "handoff_time"
        case startDate = "start_date", endDate = "end_date", slackChannel = "slack_channel", isFollowTheSun = "is_follow_the_sun"
        case subRosters = "sub_rosters", parentID = "parent_id"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        timezone = try c.decodeIfPresent(String.self, forKey: .timezone)
        rotationType = try c.decodeIfPresent(RotationKind.self, forKey: .rotationType)
        rotationLengthDays = try c.decodeIfPresent(Int.self, forKey: .rotationLengthDays)
        handoffTime = try c.decodeIfPresent(String.self, forKey: .handoffTime)
        startDate = try c.decodeIfPresent(String.self, forKey: .startDate)
        endDate = try Patch(c, .endDate)
        slackChannel = try Patch(c, .slackChannel)
        isFollowTheSun = try c.decodeIfPresent(Bool.self, forKey: .isFollowTheSun)
        members = try c.decodeIfPresent([UUID].self, forKey: .members)
        subRosters = try c.decodeIfPresent([RosterInput].self, forKey: .subRosters)
        parentID = try c.decodeIfPresent(UUID.self, forKey: .parentID)
        coverage = try c.decodeIfPresent(CoverageInput.self, forKey: .coverage)
    }
}

/// A roster's settings after validation: what the store writes.
struct RosterDraft: Sendable, Equatable {
    var name: String
    var description: String
    var timezone: String
    var rotationType: RotationKind
    var rotationLengthDays: Int
    var handoffTime: LocalTime
    var startDate: LocalDate
    var endDate: LocalDate?
    var isFollowTheSun: Bool
    var coverageStart: LocalTime?
    var coverageEnd: LocalTime?
    var slackChannel: String?
    var parentID: UUID?

    init(_ roster: Roster) {
        name = roster.name
        description = roster.description
        timezone = roster.timezone
        rotationType = roster.rotationType
        rotationLengthDays = roster.rotationLengthDays
        handoffTime = roster.handoffTime
        startDate = roster.startDate
        endDate = roster.endDate
        isFollowTheSun = roster.isFollowTheSun
        coverageStart = roster.coverageStart
        coverageEnd = roster.coverageEnd
        slackChannel = roster.slackChannel
        parentID = roster.parentID
    }

    init(name: String, description: String, timezone: String, rotationType: RotationKind, rotationLengthDays: Int,
         handoffTime: LocalTime, startDate: LocalDate, endDate: LocalDate?, isFollowTheSun: Bool, coverageStart: LocalTime?,
         coverageEnd: LocalTime?, slackChannel: String?, parentID: UUID?) {
        self.name = name
        self.description = description
        self.timezone = timezone
        self.rotationType = rotationType
        self.rotationLengthDays = rotationLengthDays
        self.handoffTime = handoffTime
        self.startDate = startDate
        self.endDate = endDate
        self.isFollowTheSun = isFollowTheSun
        self.coverageStart = coverageStart
        self.coverageEnd = coverageEnd
        self.slackChannel = slackChannel
        self.parentID = parentID
    }
}

/// A validated creation: the roster, its members in order, and its sub-rosters with theirs.
struct NewRoster: Sendable {
    var draft: RosterDraft
    var members: [UUID]
    var subRosters: [NewRoster]
}

/// Validation of roster input; every failure is a 422 naming the field.
enum RosterRules {
    /// A new top-level roster (`parent == nil`) or a sub-roster of `parent`.
    static func new(_ input: RosterInput, parent: RosterDraft?, field prefix: String = "") throws -> NewRoster {
        let f = { (name: String) in prefix + name }
        if parent != nil, input.parentID != nil, prefix.isEmpty == false {
            throw APIError.validation("sub_rosters must not name a parent_id", field: f("parent_id"))
        }
        guard let name = input.name else { throw APIError.validation("name is required", field: f("name")) }
        guard let timezone = input.timezone ?? parent?.timezone else {
            throw APIError.validation("timezone is required", field: f("timezone"))
        }
        let rotationType = input.rotationType ?? parent?.rotationType
        guard let rotationType else { throw APIError.validation("rotation_type is required (daily, weekly or custom)", field: f("rotation_type")) }
        let isSub = parent != nil
        let coverage = try coverage(input.coverage, required: isSub, field: f("coverage"))
        guard let handoffText = input.handoffTime ?? coverage?.start.description else {
            throw APIError.validation("handoff_time is required (HH:MM, local to the roster's timezone)", field: f("handoff_time"))
        }
        guard let startText = input.startDate ?? parent?.startDate.description else {
            throw APIError.validation("start_date is required (YYYY-MM-DD)", field: f("start_date"))
        }
        let isFollowTheSun = input.isFollowTheSun ?? (input.subRosters != nil)
        if isSub && isFollowTheSun { throw APIError.validation("a sub-roster cannot itself follow the sun", field: f("is_follow_the_sun")) }
        var draft = RosterDraft(
            name: try Field.requiredText(name, f("name"), max: 200),
            description: try Field.optionalText(input.description ?? "", f("description"), max: 2_000),
            timezone: try self.timezone(timezone, field: f("timezone")),
            rotationType: rotationType,
            rotationLengthDays: try length(rotationType, input.rotationLengthDays ?? (input.rotationType == nil ? parent?.rotationLengthDays : nil), field: f("rotation_length_days")),
            handoffTime: try time(handoffText, field: f("handoff_time")),
            startDate: try self.date(startText, field: f("start_date")),
            endDate: nil, isFollowTheSun: isFollowTheSun, coverageStart: coverage?.start, coverageEnd: coverage?.end,
            slackChannel: nil, parentID: input.parentID)
        draft.endDate = try input.endDate.map { try self.date($0, field: f("end_date")) }.applied(to: nil)
        draft.slackChannel = try input.slackChannel.map { try self.slackChannel($0, field: f("slack_channel")) }.applied(to: nil)
        try checkDates(draft, field: f("end_date"))

        let members = input.members ?? []
        var subs: [NewRoster] = []
        if isFollowTheSun {
            guard members.isEmpty else {
                throw APIError.validation("a follow-the-sun roster has no members of its own; give them to its sub_rosters", field: f("members"))
            }
            let inputs = input.subRosters ?? []
            guard !inputs.isEmpty else { throw APIError.validation("a follow-the-sun roster needs at least one sub-roster", field: f("sub_rosters")) }
            guard inputs.count <= 6 else { throw APIError.validation("at most 6 sub-rosters", field: f("sub_rosters")) }
            subs = try inputs.enumerated().map { index, sub in try new(sub, parent: draft, field: "sub_rosters[\(index)].") }
        } else {
            if input.subRosters != nil { throw APIError.validation("sub_rosters need is_follow_the_sun: true", field: f("sub_rosters")) }
            try checkMembers(members, field: f("members"))
        }
        return NewRoster(draft: draft, members: members, subRosters: subs)
    }

    /// The roster after applying a PUT body to `current`.
    static func updated(_ current: RosterDraft, with input: RosterInput) throws -> RosterDraft {
        if input.members != nil { throw APIError.validation("members are changed through /members", field: "members") }
        if input.subRosters != nil { throw APIError.validation("sub-rosters are added with POST /api/v1/rosters and parent_id", field: "sub_rosters") }
        if input.parentID != nil { throw APIError.validation("parent_id cannot be changed", field: "parent_id") }
        if let flag = input.isFollowTheSun, flag != current.isFollowTheSun {
            throw APIError.validation("is_follow_the_sun cannot be changed; create a new roster", field: "is_follow_the_sun")
        }
        var next = current
        if let name = input.name { next.name = try Field.requiredText(name, "name", max: 200) }
        if let description = input.description { next.description = try Field.optionalText(description, "description", max: 2_000) }
        if let timezone = input.timezone { next.timezone = try self.timezone(timezone, field: "timezone") }
        if let type = input.rotationType {
            next.rotationType = type
            next.rotationLengthDays = try length(type, input.rotationLengthDays, field: "rotation_length_days")
        } else if let days = input.rotationLengthDays {
            next.rotationLengthDays = try length(current.rotationType, days, field: "rotation_length_days")
        }
        if let handoff = input.handoffTime { next.handoffTime = try time(handoff, field: "handoff_time") }
        if let start = input.startDate { next.startDate = try date(start, field: "start_date") }
        next.endDate = try input.endDate.map { try date($0, field: "end_date") }.applied(to: current.endDate)
        next.slackChannel = try input.slackChannel.map { try slackChannel($0, field: "slack_channel") }.applied(to: current.slackChannel)
        if let window = input.coverage {
            guard current.parentID != nil else { throw APIError.validation("only sub-rosters have a coverage window", field: "coverage") }
            let parsed = try coverage(window, required: true, field: "coverage")
            next.coverageStart = parsed?.start
            next.coverageEnd = parsed?.end
        }
        try checkDates(next, field: input.endDate.isKept ? "start_date" : "end_date")
        return next
    }

    /// Managers and admins manage anyone's overrides; engineers only their own (a caller without a user, such as an
    /// API key, has no "own").
    static func mayManageOverride(of user: UUID, _ principal: Principal) -> Bool {
        principal.role >= .manager || (principal.role >= .engineer && principal.userID == user)
    }

    static func checkMembers(_ members: [UUID], field: String) throws {
        guard !members.isEmpty else { throw APIError.validation("a roster needs at least one member", field: field) }
        guard members.count <= 100 else { throw APIError.validation("at most 100 members", field: field) }
        guard Set(members).count == members.count else { throw APIError.validation("a member may appear only once", field: field) }
    }

    static func checkDates(_ draft: RosterDraft, field: String) throws {
        if let end = draft.endDate, end < draft.startDate {
            throw APIError.validation("end_date must not be before start_date", field: field)
        }
    }

    static func timezone(_ value: String, field: String) throws -> String {
        guard IANAZone.isValid(value) else {
            throw APIError.validation("'\(value.prefix(64))' is not an IANA time zone such as Europe/Berlin", field: field)
        }
        return value
    }

    static func length(_ type: RotationKind, _ days: Int?, field: String) throws -> Int {
        switch type {
        case .daily, .weekly:
            let fixed = type == .daily ? 1 : 7
            if let days, days != fixed { throw APIError.validation("a \(type.rawValue) rotation lasts \(fixed) day(s)", field: field) }
            return fixed
        case .custom:
            guard let days else { throw APIError.validation("a custom rotation needs rotation_length_days", field: field) }
            guard (1...365).contains(days) else { throw APIError.validation("rotation_length_days must be 1 to 365", field: field) }
            return days
        }
    }

    static func time(_ text: String, field: String) throws -> LocalTime {
        guard let time = LocalTime(text) else { throw APIError.validation("\(field) must be a time of day as HH:MM", field: field) }
        return time
    }

    static func date(_ text: String, field: String) throws -> LocalDate {
        guard let date = LocalDate(text), (1970...9000).contains(date.components.year) else {
            throw APIError.validation("\(field) must be a date as YYYY-MM-DD", field: field)
        }
        return date
    }

    static func slackChannel(_ text: String, field: String) throws -> String {
        let value = text.hasPrefix("#") ? String(text.dropFirst()) : text
        guard (1...80).contains(value.count), value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw APIError.validation("slack_channel must be a channel name or id", field: field)
        }
        return value
    }

    static func coverage(_ input: RosterInput.CoverageInput?, required: Bool, field: String) throws -> (start: LocalTime, end: LocalTime)? {
        guard let input else {
            if required { throw APIError.validation("a sub-roster needs its coverage window {start, end} as HH:MM", field: field) }
            return nil
        }
        guard required else { throw APIError.validation("only sub-rosters have a coverage window", field: field) }
        return (try time(input.start, field: field + ".start"), try time(input.end, field: field + ".end"))
    }
}
