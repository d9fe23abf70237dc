import Foundation
import PostgresNIO

/// SQL for `public.tenants`.
public struct TenantStore: Sendable {
    let database: Database
    public init(database: Database) { self.database = database }

    public func find(slug: TenantSlug) async throws -> Tenant? {
        let rows = try await database.client.query(
            "SELECT id, name, slug, created_at FROM public.tenants WHERE slug = \(slug.value)", logger: database.logger)
        for try await (id, name, rawSlug, created) in rows.decode((UUID, String, String, Date).self) {
            guard let slug = TenantSlug(rawSlug) else { continue }
            return Tenant(id: id, name: name, slug: slug, createdAt: created)
        }
        return nil
    }

    public func find(id: UUID) async throws -> Tenant? {
        let rows = try await database.client.query(
            "SELECT id, name, slug, created_at FROM public.tenants WHERE id = \(id)", logger: database.logger)
        for try await (id, name, rawSlug, created) in rows.decode((UUID, String, String, Date).self) {
            guard let slug = TenantSlug(rawSlug) else { continue }
            return Tenant(id: id, name: name, slug: slug, createdAt: created)
        }
        return nil
    }

    public func list() async throws -> [Tenant] {
        let rows = try await database.client.query(
            "SELECT id, name, slug, created_at FROM public.tenants ORDER BY slug", logger: database.logger)
        var tenants: [Tenant] = []
        for try await (id, name, rawSlug, created) in rows.decode((UUID, String, String, Date).self) {
            if let slug = TenantSlug(rawSlug) { tenants.append(Tenant(id: id, name: name, slug: slug, createdAt: created)) }
        }
        return tenants
    }

    /// Inserts the tenant or returns the existing one with that slug.
    func upsert(slug: TenantSlug, name: String, on connection: PostgresConnection) async throws -> (Tenant, created: Bool) {
        let rows = try await connection.query("""
            INSERT INTO public.tenants (name, slug) VALUES (\(name), \(slug.value))
            ON CONFLICT (slug) DO NOTHING
            RETURNING id, name, created_at
            """, logger: database.logger)
        for try await (id, name, created) in rows.decode((UUID, String, Date).self) {
            return (Tenant(id: id, name: name, slug: slug, createdAt: created), true)
        }
        let existing = try await connection.query(
            "SELECT id, name, created_at FROM public.tenants WHERE slug = \(slug.value)", logger: database.logger)
        for try await (id, name, created) in existing.decode((UUID, String, Date).self) {
            return (Tenant(id: id, name: name, slug: slug, createdAt: created), false)
        }
        throw APIError.conflict("tenant \(slug) could not be created")
    }

    /// Raw tenant config (settings and sealed secrets).
    public func config(tenantID: UUID) async throws -> JSONValue {
        let rows = try await database.client.query(
            "SELECT config::text FROM public.tenants WHERE id = \(tenantID)", logger: database.logger)
        for try await text in rows.decode(String.self) { return JSONValue.parse(text) ?? .object([:]) }
        return .object([:])
    }

    public func setConfig(tenantID: UUID, _ config: JSONValue) async throws {
        try await database.client.query(
            "UPDATE public.tenants SET config = \(config.jsonText())::jsonb WHERE id = \(tenantID)", logger: database.logger)
    }
}

/// Creates tenants: the row, the schema, the tenant migrations, and a first admin API key.
public struct TenantProvisioner: Sendable {
    public let database: Database
    public let migrator: Migrator
    public init(database: Database, migrator: Migrator) {
        self.database = database
        self.migrator = migrator
    }

    public struct Result: Sendable {
        public var tenant: Tenant
        public var created: Bool
        /// The first admin key, shown once; nil when the tenant already existed.
        public var adminKey: String?
    }

    public func create(slug: TenantSlug, name: String, issueAdminKey: Bool = true) async throws -> Result {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...200).contains(trimmed.count) else { throw APIError.validation("name must be 1 to 200 characters", field: "name") }
        let store = TenantStore(database: database)
        let (tenant, created) = try await database.transaction { try await store.upsert(slug: slug, name: trimmed, on: $0) }
        try await migrator.migrateTenant(slug)
        var key: String?
        if created, issueAdminKey {
            let issued = try await APIKeyStore(database: database).create(
                tenantID: tenant.id, role: .admin, scopes: [], description: "first admin key", expiresAt: nil)
            key = issued.rawKey
        }
        return Result(tenant: tenant, created: created, adminKey: key)
    }

    /// Drops the tenant's schema and row (used by `seed-demo`, which starts a tenant from scratch).
    public func drop(slug: TenantSlug) async throws {
        try await database.transaction { connection in
            try await connection.query("DROP SCHEMA IF EXISTS \(unescaped: slug.quotedSchema) CASCADE", logger: database.logger)
            try await connection.query("DELETE FROM public.tenants WHERE slug = \(slug.value)", logger: database.logger)
        }
    }
}
