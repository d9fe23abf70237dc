import Foundation
import PostgresNIO

/// SQL for `public.api_keys`.
public struct APIKeyStore: Sendable {
    let database: Database
    public init(database: Database) { self.database = database }

    /// Stores a new key; `raw` lets the seed install its well-known development key.
    public func create(
        tenantID: UUID, role: Role, scopes: [APIKeyScope], description: String, expiresAt: Date?, raw: String? = nil
    ) async throws -> IssuedAPIKey {
        let rawKey = raw ?? APIKeyMaterial.generate()
        let rows = try await database.client.query("""
            INSERT INTO public.api_keys (tenant_id, key_hash, key_prefix, role, scopes, description, expires_at)
            VALUES (\(tenantID), \(APIKeyMaterial.hash(rawKey)), \(APIKeyMaterial.prefix(rawKey)), \(role.rawValue),
                    \(scopes.map(\.rawValue)), \(description), \(expiresAt))
            RETURNING \(unescaped: Self.columns)
            """, logger: database.logger)
        for try await row in rows {
            return IssuedAPIKey(key: try Self.decode(row), rawKey: rawKey)
        }
        throw APIError.conflict("the key could not be stored")
    }

    /// Installs a fixed key if no key with that hash exists yet (idempotent seeding).
    public func ensure(tenantID: UUID, raw: String, role: Role, description: String) async throws {
        try await database.client.query("""
            INSERT INTO public.api_keys (tenant_id, key_hash, key_prefix, role, description)
            VALUES (\(tenantID), \(APIKeyMaterial.hash(raw)), \(APIKeyMaterial.prefix(raw)), \(role.rawValue), \(description))
            ON CONFLICT (key_hash) DO NOTHING
            """, logger: database.logger)
    }

    public func list(tenantID: UUID) async throws -> [APIKey] {
        let rows = try await database.client.query(
            "SELECT \(unescaped: Self.columns) FROM public.api_keys WHERE tenant_id = \(tenantID) ORDER BY created_at DESC, id",
            logger: database.logger)
        var keys: [APIKey] = []
        for try await row in rows { keys.append(try Self.decode(row)) }
        return keys
    }

    /// Revokes a key of this tenant; revoking twice keeps the first time.
    public func revoke(tenantID: UUID, id: UUID) async throws -> APIKey? {
        let rows = try await database.client.query("""
            UPDATE public.api_keys SET revoked_at = COALESCE(revoked_at, now())
            WHERE tenant_id = \(tenantID) AND id = \(id)
            RETURNING \(unescaped: Self.columns)
            """, logger: database.logger)
        for try await row in rows { return try Self.decode(row) }
        return nil
    }

    /// The live key with this hash and its tenant.
    func authenticate(hash: String) async throws -> (APIKey, Tenant)? {
        let rows = try await database.client.query("""
            SELECT k.id, k.key_prefix, k.role, k.scopes, k.description, k.created_at, k.last_used_at, k.expires_at, k.revoked_at,
                   t.id, t.name, t.slug, t.created_at
            FROM public.api_keys k JOIN public.tenants t ON t.id = k.tenant_id
            WHERE k.key_hash = \(hash) AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
            """, logger: database.logger)
        for try await row in rows {
            let (id, prefix, role, scopes, description, created, lastUsed, expires, revoked, tid, tname, tslug, tcreated) =
                try row.decode((UUID, String, String, [String], String, Date, Date?, Date?, Date?, UUID, String, String, Date).self)
            guard let slug = TenantSlug(tslug), let role = Role(rawValue: role) else { return nil }
            let key = APIKey(
                id: id, keyPrefix: prefix, role: role, scopes: scopes.compactMap(APIKeyScope.init(rawValue:)),
                description: description, createdAt: created, lastUsedAt: lastUsed, expiresAt: expires, revokedAt: revoked)
            return (key, Tenant(id: tid, name: tname, slug: slug, createdAt: tcreated))
        }
        return nil
    }

    /// Records use; the condition keeps this to one write a minute per key even across processes.
    func touch(id: UUID) async throws {
        try await database.client.query("""
            UPDATE public.api_keys SET last_used_at = now()
            WHERE id = \(id) AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
            """, logger: database.logger)
    }

    static let columns = "id, key_prefix, role, scopes, description, created_at, last_used_at, expires_at, revoked_at"

    static func decode(_ row: PostgresRow) throws -> APIKey {
        let (id, prefix, role, scopes, description, created, lastUsed, expires, revoked) = try row.decode(
            (UUID, String, String, [String], String, Date, Date?, Date?, Date?).self)
        return APIKey(
            id: id, keyPrefix: prefix, role: Role(rawValue: role) ?? .readonly,
            scopes: scopes.compactMap(APIKeyScope.init(rawValue:)), description: description,
            createdAt: created, lastUsedAt: lastUsed, expiresAt: expires, revokedAt: revoked)
    }
}
