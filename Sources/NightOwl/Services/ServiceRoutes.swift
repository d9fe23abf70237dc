import Foundation
import Hummingbird
import OwlCore

/// `/api/v1/services`: what alerts belong to and which roster covers them. Managers change them.
struct ServiceRoutes {
    let platform: Platform
    var store: ServiceStore { ServiceStore(logger: platform.logger) }

    func register(on routes: OwlRouter) {
        routes.secured(.get, "/api/v1/services", .role(.readonly), list)
        routes.secured(.post, "/api/v1/services", .role(.manager), create)
        routes.secured(.get, "/api/v1/services/{id}", .role(.readonly), get)
        routes.secured(.put, "/api/v1/services/{id}", .role(.manager), update)
    }

    @Sendable func list(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let page = try OffsetPage(query: Query(request))
        let (items, total) = try await platform.database.withTenant(principal.tenant.slug) { try await store.list(page: page, on: $0) }
        return try JSON.response(OffsetList(items: items, total: total, page: page))
    }

    @Sendable func create(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let fields = try await platform.decode(ServiceInput.self, from: request).applied(to: nil)
        let service = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) { try await store.save(nil, fields, on: $0) }
        await platform.audit(context, principal, action: "service.create", resource: "service", id: service.id.uuidString, diff: .from(service))
        return try JSON.response(service, status: .created)
    }

    /// By id or name.
    @Sendable func get(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let key = context.parameters.get("id") ?? ""
        guard let service = try await platform.database.withTenant(principal.tenant.slug, { try await store.find(key, on: $0) }) else {
            throw APIError.notFound("service")
        }
        return try JSON.response(service)
    }

    @Sendable func update(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let input = try await platform.decode(ServiceInput.self, from: request)
        let (before, after) = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) { connection in
            guard let before = try await store.find(id.uuidString, lock: true, on: connection) else { throw APIError.notFound("service") }
            return (before, try await store.save(id, try input.applied(to: before), on: connection))
        }
        await platform.audit(context, principal, action: "service.update", resource: "service", id: id.uuidString, diff: AuditDiff.between(before, after))
        return try JSON.response(after)
    }
}
