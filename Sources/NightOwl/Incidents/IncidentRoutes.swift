import Foundation
import Hummingbird
import OwlCore
import PostgresNIO

/// `/api/v1/incidents`: the knowledge base. Engineers write, everyone reads and searches.
struct IncidentRoutes {
    let platform: Platform
    var store: IncidentStore { IncidentStore(logger: platform.logger) }

    func register(on routes: OwlRouter) {
        routes.secured(.post, "/api/v1/incidents", .role(.engineer), create)
        routes.secured(.get, "/api/v1/incidents", .role(.readonly), list)
        routes.secured(.get, "/api/v1/incidents/search", .role(.readonly), search)
        routes.secured(.get, "/api/v1/incidents/fingerprint/{fingerprint}", .role(.readonly), byFingerprint)
        routes.secured(.get, "/api/v1/incidents/{id}", .role(.readonly), get)
        routes.secured(.put, "/api/v1/incidents/{id}", .role(.engineer), update)
        routes.secured(.delete, "/api/v1/incidents/{id}", .role(.engineer), archive)
        routes.secured(.post, "/api/v1/incidents/{id}/merge", .role(.engineer), merge)
        routes.secured(.get, "/api/v1/incidents/{id}/history", .role(.readonly), history)
    }

    /// Creates an entry.
    @Sendable func create(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let input = try await platform.decode(IncidentInput.self, from: request).validated(creating: true)
        let incident = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) {
            try await store.create(input, by: principal.actor, on: $0)
        }
        await platform.audit(context, principal, action: "incident.create", resource: "incident", id: incident.id.uuidString,
                             diff: .object(["title": .string(incident.title)]))
        return try JSON.response(incident, status: .created)
    }

    /// Lists live entries; filters `severity` (several), `category`, `service`, `tags` (all must match), `include_archived`.
    @Sendable func list(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let query = Query(request)
        let page = try OffsetPage(query: query)
        let filter = IncidentStore.Filter(
            severities: try query.list("severity").map { try Severity.parse($0, field: "severity").rawValue },
            category: query["category"], service: query["service"], tags: query.list("tags"),
            includeArchived: try Self.flag(query, "include_archived"))
        let (items, total) = try await platform.database.withTenant(principal.tenant.slug) { try await store.list(filter, page: page, on: $0) }
        return try JSON.response(OffsetList(items: items, total: total, page: page))
    }

    /// Full-text search (`q`, websearch syntax: quotes, OR, -exclusion; fragments match by prefix), ranked, with highlights.
    @Sendable func search(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let query = Query(request)
        guard let raw = query["q"] else { throw APIError.validation("q is required", field: "q") }
        let text = try IncidentSearch.sanitize(raw)
        let page = try OffsetPage(limit: query.int("limit", default: 20, range: 1...100), offset: query.int("offset", default: 0, range: 0...10_000))
        let includeArchived = try Self.flag(query, "include_archived")
        let (items, total) = try await platform.database.withConnection {
            try await store.search(text, page: page, includeArchived: includeArchived, tenant: principal.tenant.slug, on: $0)
        }
        return try JSON.response(OffsetList(items: items, total: total, page: page))
    }

    /// The live entry that lists this fingerprint.
    @Sendable func byFingerprint(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        guard let fingerprint = context.parameters.get("fingerprint"), (1...512).contains(fingerprint.count) else {
            throw APIError.badRequest("fingerprint must be 1 to 512 characters", code: "invalid_id")
        }
        let found = try await platform.database.withTenant(principal.tenant.slug) { connection in
            try await detail(try await store.byFingerprint(fingerprint, on: connection), on: connection)
        }
        guard let found else { throw APIError.notFound("incident with this fingerprint") }
        return try JSON.response(found)
    }

    /// One entry with its runbook.
    @Sendable func get(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let found = try await platform.database.withTenant(principal.tenant.slug) { connection in
            try await detail(try await store.get(id, on: connection), on: connection)
        }
        guard let found else { throw APIError.notFound("incident") }
        return try JSON.response(found)
    }

    /// Changes the fields given (`"runbook_id": null` unlinks the runbook). Merged entries cannot change.
    @Sendable func update(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let input = try await platform.decode(IncidentInput.self, from: request).validated(creating: false)
        let result = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) { connection -> (Incident, Incident)? in
            guard let before = try await store.get(id, lock: true, on: connection) else { return nil }
            if let survivor = before.mergedIntoID { throw APIError.conflict("this entry was merged into \(survivor.uuidString); edit that one") }
            guard let after = try await store.update(id, input, on: connection) else { return nil }
            return (before, after)
        }
        guard let (before, after) = result else { throw APIError.notFound("incident") }
        await platform.audit(context, principal, action: "incident.update", resource: "incident", id: id.uuidString,
                             diff: AuditDiff.between(before, after))
        return try JSON.response(after)
    }

    /// Archives an entry: it leaves lists and search (unless asked for) and stays readable by id.
    @Sendable func archive(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        guard let incident = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor, {
            try await store.archive(id, on: $0)
        }) else { throw APIError.notFound("incident") }
        await platform.audit(context, principal, action: "incident.archive", resource: "incident", id: id.uuidString)
        return try JSON.response(incident)
    }

    struct MergeResult: Encodable {
        var target: Incident
        var sourceID: UUID
        var alertsRepointed: Int
        enum CodingKeys: String, CodingKey { case target, sourceID = "source_id", alertsRepointed = "alerts_repointed" }
    }

    /// Merges `source_id` into this entry, in one transaction (see `IncidentMerge` for the rule).
    @Sendable func merge(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let targetID = try context.uuid("id")
        let body = try await platform.decode(MergeRequest.self, from: request)
        guard body.sourceID != targetID else { throw APIError.validation("an entry cannot be merged into itself", field: "source_id") }
        let result = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) { connection -> MergeResult in
            // Lock both rows in id order, so that two opposite merges cannot deadlock.
            var locked: [UUID: Incident] = [:]
            for id in [targetID, body.sourceID].sorted(by: { $0.uuidString < $1.uuidString }) {
                if let incident = try await store.get(id, lock: true, on: connection) { locked[id] = incident }
            }
            guard let target = locked[targetID] else { throw APIError.notFound("incident") }
            guard let source = locked[body.sourceID] else { throw APIError.validation("source_id names no incident", field: "source_id") }
            guard target.mergedIntoID == nil else { throw APIError.conflict("the target was itself merged into another entry") }
            guard source.mergedIntoID == nil else { throw APIError.conflict("the source was already merged") }
            let merged = IncidentMerge.merge(target: target, source: source)
            let moved = try await store.applyMerge(merged, target: targetID, source: body.sourceID, on: connection)
            guard let updated = try await store.get(targetID, on: connection) else { throw APIError.notFound("incident") }
            return MergeResult(target: updated, sourceID: body.sourceID, alertsRepointed: moved)
        }
        await platform.audit(context, principal, action: "incident.merge", resource: "incident", id: targetID.uuidString,
                             diff: .object(["source_id": .string(body.sourceID.uuidString), "alerts_repointed": .number(Double(result.alertsRepointed))]))
        return try JSON.response(result)
    }

    /// The entry's changes, oldest first, as recorded by the database.
    @Sendable func history(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let entries = try await platform.database.withTenant(principal.tenant.slug) { connection -> [IncidentHistoryEntry]? in
            guard try await store.get(id, on: connection) != nil else { return nil }
            return try await store.history(id, on: connection)
        }
        guard let entries else { throw APIError.notFound("incident") }
        return try JSON.response(["items": entries])
    }

    /// The entry with its runbook.
    func detail(_ incident: Incident?, on connection: PostgresConnection) async throws -> IncidentDetail? {
        guard let incident else { return nil }
        return IncidentDetail(incident: incident, runbook: try await incident.runbookID.asyncFlatMap {
            try await RunbookStore(logger: platform.logger).get($0, on: connection)
        })
    }

    static func flag(_ query: Query, _ name: String) throws -> Bool {
        guard let raw = query[name] else { return false }
        guard let value = Bool(raw) else { throw APIError.validation("\(name) must be true or false", field: name) }
        return value
    }
}
