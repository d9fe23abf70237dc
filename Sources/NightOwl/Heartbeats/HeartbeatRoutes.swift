import Foundation
import Hummingbird
import OwlCore

/// `/api/v1/heartbeats`: monitors that raise an alert when their pings stop. Managers define them; senders ping with
/// any key of the tenant, `webhook`-scoped ones included (Alertmanager's Watchdog can post its webhook straight to it).
struct HeartbeatRoutes {
    let platform: Platform
    /// The platform's clock.
    func now() -> Date { platform.clock.now }
    var store: HeartbeatStore { HeartbeatStore(logger: platform.logger) }

    func register(on routes: OwlRouter) {
        routes.secured(.get, "/api/v1/heartbeats", .role(.readonly), list)
        routes.secured(.post, "/api/v1/heartbeats", .role(.manager), create)
        routes.secured(.get, "/api/v1/heartbeats/{id}", .role(.readonly), get)
        routes.secured(.put, "/api/v1/heartbeats/{id}", .role(.manager), update)
        routes.secured(.delete, "/api/v1/heartbeats/{id}", .role(.manager), delete)
        routes.secured(.post, "/api/v1/heartbeats/{id}/ping", .ingestion(.engineer), ping)
    }

    @Sendable func list(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let page = try OffsetPage(query: Query(request))
        let (items, total) = try await platform.database.withTenant(principal.tenant.slug) { try await store.list(page: page, on: $0) }
        return try JSON.response(OffsetList(items: items, total: total, page: page), now: now())
    }

    @Sendable func create(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let fields = try await platform.decode(HeartbeatInput.self, from: request).applied(to: nil)
        let heartbeat = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) { try await store.save(nil, fields, on: $0) }
        await platform.audit(context, principal, action: "heartbeat.create", resource: "heartbeat", id: heartbeat.id.uuidString, diff: .from(heartbeat))
        return try JSON.response(heartbeat, status: .created, now: now())
    }

    @Sendable func get(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        guard let heartbeat = try await platform.database.withTenant(principal.tenant.slug, { try await store.get(id, on: $0) }) else {
            throw APIError.notFound("heartbeat")
        }
        return try JSON.response(heartbeat, now: now())
    }

    @Sendable func update(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let input = try await platform.decode(HeartbeatInput.self, from: request)
        let (before, after) = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) { connection in
            guard let before = try await store.get(id, lock: true, on: connection) else { throw APIError.notFound("heartbeat") }
            return (before, try await store.save(id, try input.applied(to: before), on: connection))
        }
        await platform.audit(context, principal, action: "heartbeat.update", resource: "heartbeat", id: id.uuidString, diff: AuditDiff.between(before, after))
        return try JSON.response(after, now: now())
    }

    @Sendable func delete(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        guard let deleted = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor, { try await store.delete(id, on: $0) }) else {
            throw APIError.notFound("heartbeat")
        }
        await platform.audit(context, principal, action: "heartbeat.delete", resource: "heartbeat", id: id.uuidString, diff: .from(deleted))
        return Response(status: .noContent)
    }

    /// Any body is accepted (and not kept): Alertmanager posts its webhook, a cron job posts nothing. Answers once the
    /// ping is committed; a ping that ends an expiry resolves the heartbeat's alert.
    @Sendable func ping(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        _ = try await request.body.collect(upTo: platform.config.bodyLimitBytes)
        guard let (heartbeat, recovered) = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor, {
            try await store.ping(id, at: now(), tenant: principal.tenant.slug, on: $0)
        }) else { throw APIError.notFound("heartbeat") }
        return try JSON.response(JSONValue.object(["status": .string(heartbeat.status(at: now()).rawValue), "recovered": .bool(recovered)]))
    }
}
