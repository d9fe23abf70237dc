import Foundation
import PostgresNIO

/// Filters of `GET /api/v1/audit-log`.
public struct AuditFilter: Sendable {
    public var actor: String?
    public var action: String?
    public var resource: String?
    public var resourceID: String?
    public var since: Date?
    public var until: Date?
}

/// Reads the tenant's `audit_log`.
struct AuditStore {
    let database: Database

    func list(_ filter: AuditFilter, page: CursorPage, on connection: PostgresConnection) async throws -> [AuditEntry] {
        let rows = try await connection.query("""
            SELECT id, actor, actor_type, action, resource, resource_id, diff::text, request_id, ip_address, created_at
            FROM audit_log
            WHERE (\(filter.actor)::text IS NULL OR actor = \(filter.actor))
              AND (\(filter.action)::text IS NULL OR action = \(filter.action))
              AND (\(filter.resource)::text IS NULL OR resource = \(filter.resource))
              AND (\(filter.resourceID)::text IS NULL OR resource_id = \(filter.resourceID))
              AND (\(filter.since)::timestamptz IS NULL OR created_at >= \(filter.since))
              AND (\(filter.until)::timestamptz IS NULL OR created_at < \(filter.until))
              AND (\(page.after?.micros)::bigint IS NULL OR (created_at, id) < (timestamptz 'epoch' + \(page.after?.micros)::bigint * interval '1 microsecond', \(page.after?.id)))
            ORDER BY created_at DESC, id DESC
            LIMIT \(page.rowsToFetch)
            """, logger: database.logger)
        var entries: [AuditEntry] = []
        for try await (id, actor, actorType, action, resource, resourceID, diff, requestID, ip, created) in rows.decode(
            (UUID, String, String, String, String, String?, String?, String?, String?, Date).self) {
            entries.append(AuditEntry(id: id, actor: actor, actorType: actorType, action: action, resource: resource,
                                      resourceID: resourceID, diff: diff.flatMap(JSONValue.parse), requestID: requestID,
                                      ipAddress: ip, createdAt: created))
        }
        return entries
    }
}

/// `GET /api/v1/audit-log`: managers and admins read what happened.
struct AuditRoutes {
    let platform: Platform

    func register(on routes: OwlRouter) {
        routes.secured(.get, "/api/v1/audit-log", .role(.manager), list)
    }

    /// Lists audit entries, newest first, filtered by actor, action, resource and time range.
    @Sendable func list(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let query = Query(request)
        let page = try CursorPage(query: query)
        let filter = AuditFilter(actor: query["actor"], action: query["action"], resource: query["resource"],
                                 resourceID: query["resource_id"].map { UUID(uuidString: $0) != nil ? $0.lowercased() : $0 }, since: try query.time("since"), until: try query.time("until"))
        if let since = filter.since, let until = filter.until, until <= since {
            throw APIError.validation("until must be after since", field: "until")
        }
        let store = AuditStore(database: platform.database)
        let rows = try await platform.database.withTenant(principal.tenant.slug) { try await store.list(filter, page: page, on: $0) }
        return try JSON.response(CursorList(rows: rows, page: page) { Cursor(time: $0.createdAt, id: $0.id) })
    }
}

import Hummingbird
