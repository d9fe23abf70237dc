import Foundation
import Hummingbird

/// `/api/v1/api-keys`: admins issue, list and revoke the tenant's keys. The raw key is returned once, at creation.
struct APIKeyRoutes {
    let platform: Platform
    var store: APIKeyStore { APIKeyStore(database: platform.database) }

    func register(on routes: OwlRouter) {
        routes.secured(.post, "/api/v1/api-keys", .role(.admin), create)
        routes.secured(.get, "/api/v1/api-keys", .role(.admin), list)
        routes.secured(.delete, "/api/v1/api-keys/{id}", .role(.admin), revoke)
    }

    /// Issues a key; the response holds the raw key, which is never shown again.
    @Sendable func create(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let input = try await platform.decode(CreateAPIKeyRequest.self, from: request)
        let description = (input.description ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard description.count <= 500 else { throw APIError.validation("description must be at most 500 characters", field: "description") }
        if let expires = input.expiresAt, expires <= platform.clock.now { throw APIError.validation("expires_at must be in the future", field: "expires_at") }
        let issued = try await store.create(tenantID: principal.tenant.id, role: input.role, scopes: Array(Set(input.scopes ?? [])),
                                            description: description, expiresAt: input.expiresAt)
        await platform.audit(context, principal, action: "api_key.create", resource: "api_key", id: issued.key.id.uuidString,
                             diff: .from(issued.key))
        return try JSON.response(issued.response, status: .created)
    }

    /// Lists keys with their prefixes only.
    @Sendable func list(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        try JSON.response(["items": try await store.list(tenantID: principal.tenant.id)])
    }

    /// Revokes a key at once.
    @Sendable func revoke(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        guard let key = try await store.revoke(tenantID: principal.tenant.id, id: id) else { throw APIError.notFound("API key") }
        platform.authenticator.keyCache.forget(keyID: id)
        await platform.audit(context, principal, action: "api_key.revoke", resource: "api_key", id: id.uuidString)
        return try JSON.response(key)
    }
}
