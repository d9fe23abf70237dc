import Foundation
import Hummingbird
import OwlCore
import PostgresNIO

/// `/api/v1/rosters`: managers and admins shape rosters; everyone reads them; engineers may put themselves on call
/// with an override (managers may override anyone).
struct RosterRoutes {
    let platform: Platform
    var store: RosterStore { RosterStore(logger: platform.logger) }
    func now() -> Date { platform.clock.now }

    func register(on routes: OwlRouter) {
        routes.secured(.post, "/api/v1/rosters", .role(.manager), create)
        routes.secured(.get, "/api/v1/rosters", .role(.readonly), list)
        routes.secured(.get, "/api/v1/rosters/{id}", .role(.readonly), get)
        routes.secured(.put, "/api/v1/rosters/{id}", .role(.manager), update)
        routes.secured(.delete, "/api/v1/rosters/{id}", .role(.manager), delete)
        routes.secured(.get, "/api/v1/rosters/{id}/members", .role(.readonly), members)
        routes.secured(.post, "/api/v1/rosters/{id}/members", .role(.manager), addMember)
        routes.secured(.put, "/api/v1/rosters/{id}/members", .role(.manager), setMembers)
        routes.secured(.delete, "/api/v1/rosters/{id}/members/{userID}", .role(.manager), removeMember)
        routes.secured(.get, "/api/v1/rosters/{id}/overrides", .role(.readonly), overrides)
        routes.secured(.post, "/api/v1/rosters/{id}/overrides", .role(.engineer), createOverride)
        routes.secured(.delete, "/api/v1/rosters/{id}/overrides/{overrideID}", .role(.engineer), deleteOverride)
    }

    /// Creates a roster (with members, or with follow-the-sun `sub_rosters`), or a sub-roster with `parent_id`.
    @Sendable func create(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let input = try await platform.decode(RosterInput.self, from: request)
        let roster = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) { connection -> Roster in
            var parent: Roster?
            if let parentID = input.parentID {
                guard let found = try await store.get(parentID, lock: true, on: connection), found.isFollowTheSun else {
                    throw APIError.validation("parent_id must name a follow-the-sun roster", field: "parent_id")
                }
                parent = found
            }
            let new = try RosterRules.new(input, parent: parent.map(RosterDraft.init))
            let id = try await store.create(new, on: connection)
            if let parent { try await store.touch(parent.id, on: connection) }
            guard let roster = try await store.get(id, on: connection) else { throw APIError.notFound("roster") }
            return roster
        }
        await platform.audit(context, principal, action: "roster.create", resource: "roster", id: roster.id.uuidString, diff: .from(roster))
        return try JSON.response(roster, status: .created, now: now())
    }

    /// Top-level rosters with members, sub-rosters and `is_active`.
    @Sendable func list(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let page = try OffsetPage(query: Query(request))
        let (items, total) = try await platform.database.withTenant(principal.tenant.slug) { try await store.list(page: page, on: $0) }
        return try JSON.response(OffsetList(items: items, total: total, page: page), now: now())
    }

    @Sendable func get(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        try JSON.response(try await roster(context, principal), now: now())
    }

    /// Changes the settings given. Members go through `/members`.
    @Sendable func update(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let input = try await platform.decode(RosterInput.self, from: request)
        let (before, after) = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) { connection in
            guard let before = try await store.get(id, lock: true, on: connection) else { throw APIError.notFound("roster") }
            try await store.update(id, RosterRules.updated(RosterDraft(before), with: input), on: connection)
            guard let after = try await store.get(id, on: connection) else { throw APIError.notFound("roster") }
            return (before, after)
        }
        await platform.audit(context, principal, action: "roster.update", resource: "roster", id: id.uuidString, diff: AuditDiff.between(before, after))
        return try JSON.response(after, now: now())
    }

    /// Deletes a roster with its members, overrides and sub-rosters; services it covered lose their roster. Refused
    /// while an escalation policy pages it.
    @Sendable func delete(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let deleted = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) { connection -> Roster in
            guard let roster = try await store.get(id, lock: true, on: connection) else { throw APIError.notFound("roster") }
            if let parent = roster.parentID {
                let siblings = try await store.get(parent, on: connection)?.subRosters.count ?? 0
                guard siblings > 1 else { throw APIError.conflict("a follow-the-sun roster keeps at least one sub-roster; delete the roster instead") }
            }
            // A policy tier that pages this roster would page nobody: the policy must be changed first.
            let policies = try await store.policiesTargeting([id] + roster.subRosters.map(\.id), on: connection)
            guard policies.isEmpty else {
                throw APIError.conflict("escalation policies page this roster: \(policies.joined(separator: ", ")); change them first")
            }
            try await store.delete(id, on: connection)
            return roster
        }
        await platform.audit(context, principal, action: "roster.delete", resource: "roster", id: id.uuidString,
                             diff: .object(["name": .string(deleted.name)]))
        return Response(status: .noContent)
    }

    // MARK: Members

    @Sendable func members(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let roster = try await roster(context, principal)
        return try JSON.response(["items": roster.members])
    }

    struct AddMember: Decodable {
        var userID: UUID
        var position: Int?
        enum CodingKeys: String, CodingKey { case position, userID = "user_id" }
    }

    /// Adds a member at `position` (0-based; default last).
    @Sendable func addMember(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let input = try await platform.decode(AddMember.self, from: request)
        let (roster, members) = try await changeMembers(context, principal) { current in
            guard !current.contains(input.userID) else { throw APIError.conflict("this user is already a member of the roster") }
            var next = current
            let position = input.position ?? current.count
            guard (0...current.count).contains(position) else {
                throw APIError.validation("position must be 0 to \(current.count)", field: "position")
            }
            next.insert(input.userID, at: position)
            return next
        }
        await platform.audit(context, principal, action: "roster.member.add", resource: "roster", id: roster.uuidString,
                             diff: .object(["user_id": .string(input.userID.uuidString.lowercased()), "members": memberList(members)]))
        return try JSON.response(["items": members], status: .created)
    }

    struct SetMembers: Decodable {
        var userIDs: [UUID]
        enum CodingKeys: String, CodingKey { case userIDs = "user_ids" }
    }

    /// Sets the members and their order at once (reordering is this with the same people).
    @Sendable func setMembers(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let input = try await platform.decode(SetMembers.self, from: request)
        try RosterRules.checkMembers(input.userIDs, field: "user_ids")
        let (roster, members) = try await changeMembers(context, principal) { _ in input.userIDs }
        await platform.audit(context, principal, action: "roster.member.set", resource: "roster", id: roster.uuidString,
                             diff: .object(["members": memberList(members)]))
        return try JSON.response(["items": members])
    }

    /// Removes a member; the last one cannot be removed (a roster without members pages nobody).
    @Sendable func removeMember(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let user = try context.uuid("userID")
        let (roster, members) = try await changeMembers(context, principal) { current in
            guard current.contains(user) else { throw APIError.notFound("member") }
            guard current.count > 1 else { throw APIError.conflict("the last member of a roster cannot be removed; add someone first") }
            return current.filter { $0 != user }
        }
        await platform.audit(context, principal, action: "roster.member.remove", resource: "roster", id: roster.uuidString,
                             diff: .object(["user_id": .string(user.uuidString.lowercased()), "members": memberList(members)]))
        return Response(status: .noContent)
    }

    private func changeMembers(_ context: OwlRequestContext, _ principal: Principal,
                               _ change: @Sendable @escaping ([UUID]) throws -> [UUID]) async throws -> (UUID, [RosterMember]) {
        let id = try context.uuid("id")
        return try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) { connection in
            guard let roster = try await store.get(id, lock: true, on: connection) else { throw APIError.notFound("roster") }
            guard !roster.isFollowTheSun else {
                throw APIError.conflict("a follow-the-sun roster has no members of its own; change its sub-rosters' members")
            }
            try await store.setMembers(id, try change(roster.members.map(\.userID)), on: connection)
            try await store.touch(id, on: connection)
            return (id, try await store.members(id, on: connection))
        }
    }

    private func memberList(_ members: [RosterMember]) -> JSONValue {
        .array(members.map { .string($0.userID.uuidString.lowercased()) })
    }

    // MARK: Overrides

    /// Overrides that have not ended, or those overlapping `from`–`to`.
    @Sendable func overrides(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let query = Query(request)
        let from = try query.time("from") ?? now()
        let to = try query.time("to") ?? .distantFuture
        guard to > from else { throw APIError.validation("to must be after from", field: "to") }
        let items = try await platform.database.withTenant(principal.tenant.slug) { connection in
            guard try await store.get(id, on: connection) != nil else { throw APIError.notFound("roster") }
            return try await store.overrides([id], overlapping: DateInterval(start: from, end: to), on: connection)
        }
        return try JSON.response(["items": items])
    }

    struct OverrideInput: Decodable {
        var userID: UUID?
        var start: Date
        var end: Date
        var reason: String?
        enum CodingKeys: String, CodingKey { case start, end, reason, userID = "user_id" }
    }

    /// Puts someone on call from `start` to `end`. Engineers may only override for themselves.
    @Sendable func createOverride(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let input = try await platform.decode(OverrideInput.self, from: request)
        guard let user = input.userID ?? principal.userID else { throw APIError.validation("user_id is required", field: "user_id") }
        guard input.end > input.start else { throw APIError.validation("end must be after start", field: "end") }
        guard input.end.timeIntervalSince(input.start) <= 366 * 86_400 else {
            throw APIError.validation("an override lasts at most 366 days", field: "end")
        }
        let reason = try Field.optionalText(input.reason ?? "", "reason", max: 500)
        guard RosterRules.mayManageOverride(of: user, principal) else {
            throw APIError.forbidden("engineers may only create overrides for themselves")
        }
        let created = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) { connection in
            guard try await store.get(id, lock: true, on: connection) != nil else { throw APIError.notFound("roster") }
            return try await store.createOverride(id, user: user, interval: DateInterval(start: input.start, end: input.end),
                                                  reason: reason, by: principal.actor, on: connection)
        }
        await platform.audit(context, principal, action: "roster.override.create", resource: "roster", id: id.uuidString, diff: .from(created))
        return try JSON.response(created, status: .created)
    }

    /// Removes an override. Engineers may only remove their own.
    @Sendable func deleteOverride(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let overrideID = try context.uuid("overrideID")
        let removed = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) { connection in
            guard let found = try await store.override(overrideID, roster: id, on: connection) else { throw APIError.notFound("override") }
            guard RosterRules.mayManageOverride(of: found.userID, principal) else {
                throw APIError.forbidden("engineers may only remove their own overrides")
            }
            try await store.deleteOverride(overrideID, on: connection)
            return found
        }
        await platform.audit(context, principal, action: "roster.override.delete", resource: "roster", id: id.uuidString, diff: .from(removed))
        return Response(status: .noContent)
    }

    private func roster(_ context: OwlRequestContext, _ principal: Principal) async throws -> Roster {
        let id = try context.uuid("id")
        guard let roster = try await platform.database.withTenant(principal.tenant.slug, { try await store.get(id, on: $0) }) else {
            throw APIError.notFound("roster")
        }
        return roster
    }
}
