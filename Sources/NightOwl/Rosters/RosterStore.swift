import Foundation
import OwlCore
import PostgresNIO

/// SQL for `rosters`, `roster_members` and `roster_overrides`. Every method runs on a tenant connection.
struct RosterStore {
    let logger: Logger

    static let columns = """
        r.id, r.parent_id, r.name, r.description, r.timezone, r.rotation_type, r.rotation_length_days, r.handoff_minute,
        to_char(r.start_date, 'YYYY-MM-DD'), to_char(r.end_date, 'YYYY-MM-DD'), r.is_follow_the_sun,
        r.coverage_start_minute, r.coverage_end_minute, r.slack_channel, r.created_at, r.updated_at
        """

    static func decode(_ row: PostgresRow) throws -> Roster {
        let (id, parent, name, description, timezone, type, length, handoff, start, end, fts, coverageStart, coverageEnd, channel, created, updated) =
            try row.decode((UUID, UUID?, String, String, String, String, Int, Int, String, String?, Bool, Int?, Int?, String?, Date, Date).self)
        return Roster(id: id, parentID: parent, name: name, description: description, timezone: timezone,
                      rotationType: RotationKind(rawValue: type) ?? .custom, rotationLengthDays: length,
                      handoffTime: LocalTime(minutes: handoff) ?? LocalTime(minutes: 0)!, startDate: LocalDate(start) ?? LocalDate(daysSinceEpoch: 0),
                      endDate: end.flatMap(LocalDate.init), isFollowTheSun: fts,
                      coverageStart: coverageStart.flatMap(LocalTime.init(minutes:)), coverageEnd: coverageEnd.flatMap(LocalTime.init(minutes:)),
                      slackChannel: channel, createdAt: created, updatedAt: updated)
    }

    // MARK: Rosters

    /// Creates the roster, its members and its sub-rosters; returns the new id.
    func create(_ roster: NewRoster, parentID: UUID? = nil, on connection: PostgresConnection) async throws -> UUID {
        let d = roster.draft
        let parent = parentID ?? d.parentID
        let rows: PostgresRowSequence
        do {
            rows = try await connection.query("""
                INSERT INTO rosters (parent_id, name, description, timezone, rotation_type, rotation_length_days, handoff_minute,
                                     start_date, end_date, is_follow_the_sun, coverage_start_minute, coverage_end_minute, slack_channel)
                VALUES (\(parent), \(d.name), \(d.description), \(d.timezone), \(d.rotationType.rawValue), \(d.rotationLengthDays),
                        \(d.handoffTime.minutes), \(d.startDate.description)::date, \(d.endDate?.description)::date, \(d.isFollowTheSun),
                        \(d.coverageStart?.minutes), \(d.coverageEnd?.minutes), \(d.slackChannel))
                RETURNING id
                """, logger: logger)
        } catch where PostgresErrorCode.isUniqueViolation(error) {
            throw APIError.conflict("a roster named '\(d.name)' already exists here")
        }
        var id: UUID?
        for try await value in rows.decode(UUID.self) { id = value }
        guard let id else { throw APIError.conflict("the roster could not be stored") }
        try await setMembers(id, roster.members, on: connection)
        for sub in roster.subRosters { _ = try await create(sub, parentID: id, on: connection) }
        return id
    }

    /// One roster with its members and (for follow-the-sun) its sub-rosters.
    func get(_ id: UUID, lock: Bool = false, on connection: PostgresConnection) async throws -> Roster? {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM rosters r WHERE r.id = \(id) \(unescaped: lock ? "FOR UPDATE" : "")
            """, logger: logger)
        var found: Roster?
        for try await row in rows { found = try Self.decode(row) }
        guard var roster = found else { return nil }
        return try await filled(&roster, on: connection)
    }

    private func filled(_ roster: inout Roster, on connection: PostgresConnection) async throws -> Roster {
        roster.members = try await members(roster.id, on: connection)
        if roster.isFollowTheSun {
            var subs: [Roster] = []
            let rows = try await connection.query("""
                SELECT \(unescaped: Self.columns) FROM rosters r WHERE r.parent_id = \(roster.id)
                ORDER BY r.coverage_start_minute, lower(r.name), r.id
                """, logger: logger)
            for try await row in rows { subs.append(try Self.decode(row)) }
            for index in subs.indices { subs[index].members = try await members(subs[index].id, on: connection) }
            roster.subRosters = subs
        }
        return roster
    }

    /// Top-level rosters by name.
    func list(page: OffsetPage, on connection: PostgresConnection) async throws -> ([Roster], Int) {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns), count(*) OVER () FROM rosters r WHERE r.parent_id IS NULL
            ORDER BY lower(r.name), r.id LIMIT \(page.limit) OFFSET \(page.offset)
            """, logger: logger)
        var (items, total) = try await rows.page(Self.decode)
        for index in items.indices { _ = try await filled(&items[index], on: connection) }
        return (items, total)
    }

    /// Every top-level roster that has not ended.
    func active(at instant: Date, on connection: PostgresConnection) async throws -> [Roster] {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM rosters r WHERE r.parent_id IS NULL ORDER BY lower(r.name), r.id
            """, logger: logger)
        var items: [Roster] = []
        for try await row in rows { items.append(try Self.decode(row)) }
        return items.filter { $0.isActive(at: instant) }
    }

    func update(_ id: UUID, _ d: RosterDraft, on connection: PostgresConnection) async throws {
        do {
            try await connection.query("""
                UPDATE rosters SET name = \(d.name), description = \(d.description), timezone = \(d.timezone),
                    rotation_type = \(d.rotationType.rawValue), rotation_length_days = \(d.rotationLengthDays),
                    handoff_minute = \(d.handoffTime.minutes), start_date = \(d.startDate.description)::date,
                    end_date = \(d.endDate?.description)::date, coverage_start_minute = \(d.coverageStart?.minutes),
                    coverage_end_minute = \(d.coverageEnd?.minutes), slack_channel = \(d.slackChannel), updated_at = now()
                WHERE id = \(id)
                """, logger: logger)
        } catch where PostgresErrorCode.isUniqueViolation(error) {
            throw APIError.conflict("a roster named '\(d.name)' already exists here")
        }
    }

    func delete(_ id: UUID, on connection: PostgresConnection) async throws {
        try await connection.query("DELETE FROM rosters WHERE id = \(id)", logger: logger)
    }

    /// Names of the escalation policies with a tier that targets one of `rosterIDs`.
    func policiesTargeting(_ rosterIDs: [UUID], on connection: PostgresConnection) async throws -> [String] {
        let ids = rosterIDs.map { $0.uuidString.lowercased() }
        let rows = try await connection.query("""
            SELECT p.name FROM escalation_policies p
            WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(p.tiers) tier, jsonb_array_elements(tier -> 'targets') target
                          WHERE lower(target ->> 'roster_id') = ANY(\(ids)))
            ORDER BY p.name
            """, logger: logger)
        var names: [String] = []
        for try await name in rows.decode(String.self) { names.append(name) }
        return names
    }

    func touch(_ id: UUID, on connection: PostgresConnection) async throws {
        try await connection.query("UPDATE rosters SET updated_at = now() WHERE id = \(id)", logger: logger)
    }

    // MARK: Members

    func members(_ rosterID: UUID, on connection: PostgresConnection) async throws -> [RosterMember] {
        let rows = try await connection.query("""
            SELECT m.user_id, m.position, u.display_name, u.email, u.timezone, u.is_active
            FROM roster_members m JOIN users u ON u.id = m.user_id
            WHERE m.roster_id = \(rosterID) ORDER BY m.position
            """, logger: logger)
        var result: [RosterMember] = []
        for try await (user, position, name, email, timezone, active) in rows.decode((UUID, Int, String, String, String, Bool).self) {
            result.append(RosterMember(userID: user, position: position, displayName: name, email: email, timezone: timezone, isActive: active))
        }
        return result
    }

    /// Refuses ids that are not active users of this tenant.
    func requireUsers(_ ids: [UUID], field: String, on connection: PostgresConnection) async throws {
        guard !ids.isEmpty else { return }
        let rows = try await connection.query("SELECT id FROM users WHERE id = ANY(\(ids)) AND is_active", logger: logger)
        var known = Set<UUID>()
        for try await id in rows.decode(UUID.self) { known.insert(id) }
        let unknown = ids.filter { !known.contains($0) }
        guard unknown.isEmpty else {
            throw APIError(.unprocessableContent, code: "validation_failed",
                           message: "not active users of this tenant: \(unknown.map { $0.uuidString.lowercased() }.joined(separator: ", "))",
                           details: .object(["field": .string(field), "unknown_user_ids": .array(unknown.map { .string($0.uuidString.lowercased()) })]))
        }
    }

    /// Replaces the members with `userIDs`, in that order.
    func setMembers(_ rosterID: UUID, _ userIDs: [UUID], on connection: PostgresConnection) async throws {
        try await requireUsers(userIDs, field: "members", on: connection)
        try await connection.query("DELETE FROM roster_members WHERE roster_id = \(rosterID)", logger: logger)
        guard !userIDs.isEmpty else { return }
        try await connection.query("""
            INSERT INTO roster_members (roster_id, user_id, position)
            SELECT \(rosterID), user_id, ordinality - 1 FROM unnest(\(userIDs)::uuid[]) WITH ORDINALITY AS t(user_id, ordinality)
            """, logger: logger)
    }

    // MARK: Overrides

    static let overrideColumns = "o.id, o.roster_id, o.user_id, u.display_name, o.starts_at, o.ends_at, o.reason, o.created_by, o.created_at"

    static func decodeOverride(_ row: PostgresRow) throws -> RosterOverride {
        let (id, roster, user, name, start, end, reason, by, created) =
            try row.decode((UUID, UUID, UUID, String, Date, Date, String, String, Date).self)
        return RosterOverride(id: id, rosterID: roster, userID: user, displayName: name, start: start, end: end, reason: reason,
                              createdBy: by, createdAt: created)
    }

    /// Overrides of `rosterIDs` that overlap `window`, by start.
    func overrides(_ rosterIDs: [UUID], overlapping window: DateInterval, on connection: PostgresConnection) async throws -> [RosterOverride] {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.overrideColumns) FROM roster_overrides o JOIN users u ON u.id = o.user_id
            WHERE o.roster_id = ANY(\(rosterIDs)) AND o.ends_at > \(window.start) AND o.starts_at < \(window.end)
            ORDER BY o.starts_at, o.created_at
            """, logger: logger)
        var result: [RosterOverride] = []
        for try await row in rows { result.append(try Self.decodeOverride(row)) }
        return result
    }

    func createOverride(_ rosterID: UUID, user: UUID, interval: DateInterval, reason: String, by actor: String,
                        on connection: PostgresConnection) async throws -> RosterOverride {
        try await requireUsers([user], field: "user_id", on: connection)
        let rows = try await connection.query("""
            WITH inserted AS (
                INSERT INTO roster_overrides (roster_id, user_id, starts_at, ends_at, reason, created_by)
                VALUES (\(rosterID), \(user), \(interval.start), \(interval.end), \(reason), \(actor)) RETURNING *)
            SELECT \(unescaped: Self.overrideColumns) FROM inserted o JOIN users u ON u.id = o.user_id
            """, logger: logger)
        for try await row in rows { return try Self.decodeOverride(row) }
        throw APIError.conflict("the override could not be stored")
    }

    func override(_ id: UUID, roster: UUID, on connection: PostgresConnection) async throws -> RosterOverride? {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.overrideColumns) FROM roster_overrides o JOIN users u ON u.id = o.user_id
            WHERE o.id = \(id) AND o.roster_id = \(roster)
            """, logger: logger)
        for try await row in rows { return try Self.decodeOverride(row) }
        return nil
    }

    func deleteOverride(_ id: UUID, on connection: PostgresConnection) async throws {
        try await connection.query("DELETE FROM roster_overrides WHERE id = \(id)", logger: logger)
    }

    // MARK: Who is on call

    /// Everything needed to compute on-call for `roster` around `window`: the plan (with overrides in reach of the
    /// window) and the people it can name.
    func plan(for roster: Roster, around window: DateInterval, on connection: PostgresConnection) async throws -> (OnCallPlan, [UUID: User]) {
        let reach = DateInterval(start: window.start.addingTimeInterval(-900 * 86_400), end: window.end.addingTimeInterval(900 * 86_400))
        let ids = [roster.id] + roster.subRosters.map(\.id)
        let overrides = try await self.overrides(ids, overlapping: reach, on: connection)
        func plan(_ r: Roster) -> OnCallPlan {
            OnCallPlan(rosterID: r.id, rotation: r.rotation, members: r.members.filter(\.isActive).map(\.userID),
                       overrides: overrides.filter { $0.rosterID == r.id }.map(\.span))
        }
        var result = plan(roster)
        result.subRosters = roster.subRosters.map { sub in
            SubRosterPlan(name: sub.name, coverageStart: sub.coverageStart ?? LocalTime(minutes: 0)!,
                          coverageEnd: sub.coverageEnd ?? LocalTime(minutes: 0)!, plan: plan(sub))
        }
        let people = Set(roster.members.map(\.userID) + roster.subRosters.flatMap { $0.members.map(\.userID) } + overrides.map(\.userID))
        return (result, try await users(Array(people), on: connection))
    }

    func users(_ ids: [UUID], on connection: PostgresConnection) async throws -> [UUID: User] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await connection.query("SELECT \(unescaped: UserStore.columns) FROM users WHERE id = ANY(\(ids))", logger: logger)
        var result: [UUID: User] = [:]
        for try await row in rows {
            let user = try UserStore.decode(row)
            result[user.id] = user
        }
        return result
    }
}
