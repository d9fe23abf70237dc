import Foundation
import Hummingbird
import OwlCore
import PostgresNIO

/// Who is on call: per roster (now or at a time), recent history, a window's schedule, every roster, and per service.
struct OnCallRoutes {
    let platform: Platform
    var store: RosterStore { RosterStore(logger: platform.logger) }
    /// The platform's clock.
    func now() -> Date { platform.clock.now }

    static let maximumScheduleDays = 366

    func register(on routes: OwlRouter) {
        routes.secured(.get, "/api/v1/rosters/{id}/oncall", .role(.readonly), oncall)
        routes.secured(.get, "/api/v1/rosters/{id}/oncall/history", .role(.readonly), history)
        routes.secured(.get, "/api/v1/rosters/{id}/schedule", .role(.readonly), schedule)
        routes.secured(.get, "/api/v1/oncall", .role(.readonly), everyRoster)
        routes.secured(.get, "/api/v1/oncall/{service}", .role(.readonly), forService)
    }

    /// Primary and secondary now or `?at=`.
    @Sendable func oncall(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let at = try Query(request).time("at") ?? now()
        let result = try await platform.database.withTenant(principal.tenant.slug) { connection in
            guard let roster = try await store.get(id, on: connection) else { throw APIError.notFound("roster") }
            return try await answer(roster, at: at, requireMembers: true, on: connection)
        }
        return try JSON.response(result)
    }

    /// The last 10 completed stretches, overrides applied, most recent first: as the worker recorded them while they
    /// happened (so later changes to the roster do not rewrite them), computed from the configuration before that.
    @Sendable func history(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let query = Query(request)
        let before = try query.time("before") ?? now()
        let count = try query.int("limit", default: 10, range: 1...100)
        let items = try await platform.database.withTenant(principal.tenant.slug) { connection -> [ShiftView] in
            guard let roster = try await store.get(id, on: connection) else { throw APIError.notFound("roster") }
            let log = OnCallLogStore(logger: platform.logger)
            // One more row than asked, since the newest may still be going on.
            let recorded = try await log.rows(id, before: before, limit: count + 1, on: connection)
            let (plan, planned) = try await store.plan(for: roster, around: DateInterval(start: before, duration: 0), on: connection)
            let segments = OnCallHistory.completed(
                recorded: recorded, recordedUntil: try await log.recordedUntil(id, on: connection), logComplete: recorded.count <= count,
                before: before, count: count, computed: { OnCallTimeline.segments(plan, in: $0) },
                computedBefore: { OnCallTimeline.completed(plan, before: $0, count: $1) })
            let people = try await withPast(segments, planned, on: connection)
            let overrides = plan.allOverrides
            return segments.map { ShiftView(segment: $0, roster: roster, people: people, overrides: overrides, at: $0.interval.start) }
        }
        return try JSON.response(["items": items])
    }

    /// The stretches of `from`–`to` (default: the next 14 days; at most a year).
    @Sendable func schedule(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let window = try Self.window(Query(request), now: now(), defaultDays: (0, 14))
        let items = try await platform.database.withTenant(principal.tenant.slug) { connection -> [ShiftView] in
            guard let roster = try await store.get(id, on: connection) else { throw APIError.notFound("roster") }
            return try await shifts(roster, in: window, on: connection)
        }
        return try JSON.response(ScheduleList(from: window.start, to: window.end, items: items))
    }

    /// Every active top-level roster, now.
    @Sendable func everyRoster(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let at = try Query(request).time("at") ?? now()
        let items = try await platform.database.withTenant(principal.tenant.slug) { connection -> [OnCallAnswer] in
            var answers: [OnCallAnswer] = []
            for listed in try await store.active(at: at, on: connection) {
                guard let roster = try await store.get(listed.id, on: connection) else { continue }
                answers.append(try await answer(roster, at: at, requireMembers: false, on: connection))
            }
            return answers
        }
        return try JSON.response(["items": items])
    }

    /// Who covers a service (by name or id) now: `{user_name, user_email, shift_end}` and the full answer.
    @Sendable func forService(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        guard let key = context.parameters.get("service"), (1...200).contains(key.count) else {
            throw APIError.badRequest("service must be a service name or id", code: "invalid_id")
        }
        let at = try Query(request).time("at") ?? now()
        let result = try await platform.database.withTenant(principal.tenant.slug) { connection -> ServiceOnCall in
            let service = try await ServiceStore(logger: platform.logger).find(key, on: connection)
            guard let service else { throw APIError.notFound("service") }
            guard let rosterID = service.rosterID, let roster = try await store.get(rosterID, on: connection) else {
                throw APIError(.notFound, code: "no_roster", message: "service '\(service.name)' is not covered by a roster")
            }
            return ServiceOnCall(service: service, answer: try await answer(roster, at: at, requireMembers: false, on: connection))
        }
        return try JSON.response(result)
    }

    // MARK: Shared with the calendar feeds

    func answer(_ roster: Roster, at: Date, requireMembers: Bool, on connection: PostgresConnection) async throws -> OnCallAnswer {
        if requireMembers, roster.isFollowTheSun ? roster.subRosters.allSatisfy({ $0.members.isEmpty }) : roster.members.isEmpty {
            throw APIError.conflict("the roster has no members, so nobody can be on call")
        }
        let (plan, planned) = try await store.plan(for: roster, around: DateInterval(start: at, duration: 0), on: connection)
        // A past instant is answered from the log when the worker recorded it.
        let segment = try await OnCallLogStore(logger: platform.logger).finished(roster.id, at: at, on: connection) ?? OnCallTimeline.segment(plan, at: at)
        let people = try await withPast(segment.map { [$0] } ?? [], planned, on: connection)
        let shift = segment.map { ShiftView(segment: $0, roster: roster, people: people, overrides: plan.allOverrides, at: at) }
        return OnCallAnswer(roster: roster, at: at, shift: shift)
    }

    /// The stretches of `window`: logged where the worker recorded them, computed elsewhere (schedules, calendars).
    func shifts(_ roster: Roster, in window: DateInterval, on connection: PostgresConnection) async throws -> [ShiftView] {
        let (plan, planned) = try await store.plan(for: roster, around: window, on: connection)
        let (recorded, span) = try await OnCallLogStore(logger: platform.logger).rows(roster.id, overlapping: window, on: connection)
        let segments = OnCallHistory.timeline(recorded: recorded, logStart: span?.start, recordedUntil: span?.end, window: window,
                                              computed: { OnCallTimeline.segments(plan, in: $0) })
        let people = try await withPast(segments, planned, on: connection)
        let overrides = plan.allOverrides
        return segments.map { ShiftView(segment: $0, roster: roster, people: people, overrides: overrides, at: $0.interval.start) }
    }

    /// `people`, and the people `segments` name who have since left the roster.
    func withPast(_ segments: [OnCallSegment], _ people: [UUID: User], on connection: PostgresConnection) async throws -> [UUID: User] {
        let missing = Set(segments.flatMap { [$0.primary] + ($0.secondary.map { [$0] } ?? []) }).subtracting(people.keys)
        guard !missing.isEmpty else { return people }
        return people.merging(try await store.users(Array(missing), on: connection)) { current, _ in current }
    }

    /// `from`/`to` from the query, defaulting to now plus the given day offsets, at most a year long.
    static func window(_ query: Query, now: Date, defaultDays: (Int, Int)) throws -> DateInterval {
        let from = try query.time("from") ?? now.addingTimeInterval(Double(defaultDays.0) * 86_400)
        let to = try query.time("to") ?? from.addingTimeInterval(Double(defaultDays.1 - defaultDays.0) * 86_400)
        guard to > from else { throw APIError.validation("to must be after from", field: "to") }
        guard to.timeIntervalSince(from) <= Double(maximumScheduleDays) * 86_400 else {
            throw APIError.validation("the window may span at most \(maximumScheduleDays) days", field: "to")
        }
        return DateInterval(start: from, end: to)
    }
}

struct ScheduleList: Encodable {
    var from: Date
    var to: Date
    var items: [ShiftView]
}

/// The answer of `GET /api/v1/oncall/{service}`: the flat fields TicketOwl reads, then the roster's answer.
struct ServiceOnCall: Encodable {
    var service: MonitoredService
    var answer: OnCallAnswer

    enum CodingKeys: String, CodingKey {
        case service, oncall
        case userName = "user_name", userEmail = "user_email", shiftEnd = "shift_end", rosterID = "roster_id", rosterName = "roster_name"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        let primary = answer.shift.flatMap { $0.people[$0.segment.primary] }
        try c.encode(service.name, forKey: .service)
        try c.encode(answer.roster.id, forKey: .rosterID)
        try c.encode(answer.roster.name, forKey: .rosterName)
        try c.encode(primary?.displayName, forKey: .userName)
        try c.encode(primary?.email, forKey: .userEmail)
        try c.encode(answer.shift?.segment.interval.end, forKey: .shiftEnd)
        try c.encode(answer, forKey: .oncall)
    }
}

extension OnCallPlan {
    /// Overrides of the roster and its sub-rosters, by id.
    var allOverrides: [UUID: OverrideSpan] {
        var result: [UUID: OverrideSpan] = [:]
        for span in overrides + subRosters.flatMap(\.plan.overrides) { result[span.id] = span }
        return result
    }
}
