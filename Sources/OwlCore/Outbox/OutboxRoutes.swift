import Foundation
import Hummingbird

/// `/api/v1/outbox`: what the service sent or will send to other systems, every attempt, and the messages it gave up
/// on; an admin sends a failed one again.
struct OutboxRoutes {
    let platform: Platform
    var store: OutboxStore { OutboxStore(logger: platform.logger) }
    static let statuses = ["pending", "sending", "sent", "sandboxed", "failed"]

    func register(on routes: OwlRouter) {
        routes.secured(.get, "/api/v1/outbox", .role(.admin), list)
        routes.secured(.get, "/api/v1/outbox/{id}", .role(.admin), show)
        routes.secured(.post, "/api/v1/outbox/{id}/retry", .role(.admin), retry)
    }

    /// Lists messages newest first, by status and provider.
    @Sendable func list(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let query = Query(request)
        let page = try CursorPage(query: query)
        let status = query["status"]
        if let status, !Self.statuses.contains(status) {
            throw APIError.validation("status must be one of \(Self.statuses.joined(separator: ", "))", field: "status")
        }
        let rows = try await platform.database.withTenant(principal.tenant.slug) { connection in
            try await store.list(status: status, provider: query["provider"], page: page, on: connection)
        }
        return try JSON.response(CursorList(rows: rows, page: page) { Cursor(time: $0.createdAt, id: $0.id) })
    }

    /// One message with its attempts.
    @Sendable func show(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let found = try await platform.database.withTenant(principal.tenant.slug) { connection -> (OutboxEntry, [OutboxAttempt])? in
            guard let entry = try await store.find(id, on: connection) else { return nil }
            return (entry, try await store.attempts(of: id, on: connection))
        }
        guard let (entry, attempts) = found else { throw APIError.notFound("outbound message") }
        return try JSON.response(OutboxDetail(message: entry, attempts: attempts))
    }

    /// Sends a failed message again, with a fresh count of attempts.
    @Sendable func retry(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let outcome = try await platform.database.withTenant(principal.tenant.slug) { connection -> (OutboxEntry?, Bool) in
            if let entry = try await store.retry(id, at: platform.clock.now, on: connection) { return (entry, true) }
            return (try await store.find(id, on: connection), false)
        }
        guard let entry = outcome.0 else { throw APIError.notFound("outbound message") }
        guard outcome.1 else { throw APIError.conflict("only a failed message can be sent again; this one is \(entry.status)") }
        await platform.audit(context, principal, action: "outbox.retry", resource: "outbox", id: id.uuidString.lowercased())
        return try JSON.response(entry)
    }
}

struct OutboxDetail: Encodable, Sendable {
    var message: OutboxEntry
    var attempts: [OutboxAttempt]
}
