import Foundation
import Hummingbird
import OwlCore
import PostgresNIO

/// `/api/v1/incidents`: the knowledge base. Engineers write, everyone reads and searches.
struct IncidentRoutes {
    let platform: Platform
    var store: IncidentStore { IncidentStore(logger: platform.logger) }
    var service: IncidentService { IncidentService(platform: platform) }

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
        return try JSON.response(try await service.create(input, principal, context), status: .created)
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
        guard let after = try await service.update(id, input, principal, context) else { throw APIError.notFound("incident") }
        return try JSON.response(after)
    }

    /// Archives an entry: it leaves lists and search (unless asked for) and stays readable by id.
    @Sendable func archive(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        guard let incident = try await service.archive(try context.uuid("id"), principal, context) else { throw APIError.notFound("incident") }
        return try JSON.response(incident)
    }

    /// Merges `source_id` into this entry, in one transaction (see `IncidentMerge` for the rule).
    @Sendable func merge(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let target = try context.uuid("id")
        let body = try await platform.decode(MergeRequest.self, from: request)
        return try JSON.response(try await service.merge(body.sourceID, into: target, principal, context))
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
