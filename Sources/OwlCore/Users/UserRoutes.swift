import Foundation
import Hummingbird

/// `/api/v1/users`: admins manage people; everyone in the tenant can see who is who. Delete deactivates,
/// because alerts, audit entries and shifts keep pointing at the person.
struct UserRoutes {
    let platform: Platform
    var store: UserStore { UserStore(database: platform.database) }

    func register(on routes: OwlRouter) {
        routes.secured(.post, "/api/v1/users", .role(.admin), create)
        routes.secured(.get, "/api/v1/users", .role(.readonly), list)
        routes.secured(.get, "/api/v1/users/{id}", .role(.readonly), get)
        routes.secured(.put, "/api/v1/users/{id}", .role(.admin), update)
        routes.secured(.delete, "/api/v1/users/{id}", .role(.admin), deactivate)
    }

    /// Creates a user.
    @Sendable func create(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let input = try await platform.decode(CreateUserRequest.self, from: request).validated()
        let user = try await platform.database.withTenant(principal.tenant.slug) { try await store.create(input, on: $0) }
        await platform.audit(context, principal, action: "user.create", resource: "user", id: user.id.uuidString, diff: .from(user))
        return try JSON.response(user, status: .created)
    }

    /// Lists users, by name; `?active=true` hides deactivated ones.
    @Sendable func list(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let query = Query(request)
        let page = try OffsetPage(query: query)
        let activeOnly = try query["active"].map { raw -> Bool in
            guard let value = Bool(raw) else { throw APIError.validation("active must be true or false", field: "active") }
            return value
        } ?? false
        let (users, total) = try await platform.database.withTenant(principal.tenant.slug) {
            try await store.list(page: page, activeOnly: activeOnly, on: $0)
        }
        return try JSON.response(OffsetList(items: users, total: total, page: page))
    }

    /// One user.
    @Sendable func get(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        guard let user = try await platform.database.withTenant(principal.tenant.slug, { try await store.get(id, on: $0) }) else {
            throw APIError.notFound("user")
        }
        return try JSON.response(user)
    }

    /// Changes the fields given.
    @Sendable func update(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let input = try await platform.decode(UpdateUserRequest.self, from: request).validated()
        guard let (before, after) = try await platform.database.withTenant(principal.tenant.slug, { try await store.update(id, input, on: $0) }) else {
            throw APIError.notFound("user")
        }
        await platform.audit(context, principal, action: "user.update", resource: "user", id: id.uuidString, diff: AuditDiff.between(before, after))
        return try JSON.response(after)
    }

    /// Deactivates a user (the record stays for history).
    @Sendable func deactivate(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        guard let (before, after) = try await platform.database.withTenant(principal.tenant.slug, {
            try await store.update(id, UpdateUserRequest(isActive: false), on: $0)
        }) else { throw APIError.notFound("user") }
        if before.isActive {
            await platform.audit(context, principal, action: "user.deactivate", resource: "user", id: id.uuidString, diff: AuditDiff.between(before, after))
        }
        return try JSON.response(after)
    }
}
