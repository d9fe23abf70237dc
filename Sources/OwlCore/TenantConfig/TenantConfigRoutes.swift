import Hummingbird

/// `/api/v1/admin/config`: the tenant's settings and integration secrets.
struct TenantConfigRoutes {
    let platform: Platform

    func register(on routes: OwlRouter) {
        routes.secured(.get, "/api/v1/admin/config", .role(.admin), get)
        routes.secured(.put, "/api/v1/admin/config", .role(.admin), update)
    }

    /// Settings in full; secrets only as configured or not.
    @Sendable func get(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        try JSON.response(try await platform.tenantConfig.view(tenantID: principal.tenant.id))
    }

    /// Sets the settings and secrets given; null removes one. Validated as a whole before anything is written.
    @Sendable func update(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let change = try await platform.decode(UpdateTenantConfigRequest.self, from: request)
        let (view, diff) = try await platform.tenantConfig.update(tenantID: principal.tenant.id, change)
        await platform.audit(context, principal, action: "config.update", resource: "tenant_config", id: principal.tenant.slug.value, diff: diff)
        return try JSON.response(view)
    }
}
