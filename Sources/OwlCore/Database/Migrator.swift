import Foundation
import Logging
import PostgresNIO

/// One SQL file. `id` is `<component>/<file name>`, e.g. `core/0001_tenants.sql`.
public struct Migration: Sendable, Equatable {
    public var id: String
    public var sql: String
    public init(id: String, sql: String) {
        self.id = id
        self.sql = sql
    }

    /// Loads `*.sql` files of a resource folder, ordered by file name.
    public static func load(component: String, directory: URL?) -> [Migration] {
        guard let directory,
              let files = try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil) else { return [] }
        return files.filter { $0.pathExtension == "sql" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
            .compactMap { url in
                guard let sql = try? String(contentsOf: url, encoding: .utf8) else { return nil }
                return Migration(id: "\(component)/\(url.lastPathComponent)", sql: sql)
            }
    }
}

/// The migrations of one service: `global` for the `public` schema, `tenant` applied to every `tenant_<slug>` schema.
public struct MigrationSet: Sendable {
    public typealias TenantSetup = @Sendable (PostgresConnection, Logger) async throws -> Void
    public var global: [Migration]
    public var tenant: [Migration]
    /// Idempotent data every tenant must have (shipped templates), applied after the tenant's migrations on every run.
    public var tenantSetup: TenantSetup?

    public init(global: [Migration], tenant: [Migration], tenantSetup: TenantSetup? = nil) {
        self.global = global
        self.tenant = tenant
        self.tenantSetup = tenantSetup
    }

    /// The platform's own migrations followed by the service's.
    public static func platform(plus service: MigrationSet) -> MigrationSet {
        let core = CoreMigrations.set
        return MigrationSet(global: core.global + service.global, tenant: core.tenant + service.tenant, tenantSetup: service.tenantSetup)
    }
}

extension MigrationSet {
    /// Loads `<root>/global/*.sql` and `<root>/tenant/*.sql` (a `Migrations` resource folder).
    public static func load(component: String, root: URL?) -> MigrationSet {
        MigrationSet(
            global: Migration.load(component: component, directory: root?.appendingPathComponent("global")),
            tenant: Migration.load(component: component, directory: root?.appendingPathComponent("tenant"))
        )
    }
}

enum CoreMigrations {
    static var set: MigrationSet { .load(component: "core", root: Bundle.module.url(forResource: "Migrations", withExtension: nil)) }
}

/// Applies migrations. Each schema has its own `schema_migrations` table and every file runs in its own transaction.
/// Advisory locks make concurrent migrators take turns: `public` is migrated under an exclusive service-wide lock,
/// a tenant under a lock of its own (holding the service-wide one shared), so tenants are provisioned in parallel
/// but never while `public` changes.
public struct Migrator: Sendable {
    public let database: Database
    public let migrations: MigrationSet
    /// Distinct per service database; any constant works because each service owns its database.
    static let lockKey: Int64 = 0x6F776C_6D6967

    public init(database: Database, migrations: MigrationSet) {
        self.database = database
        self.migrations = migrations
    }

    /// Migrates `public` and every existing tenant. Returns how many files were applied.
    @discardableResult
    public func migrateAll() async throws -> Int {
        let (applied, slugs) = try await migratePublic()
        var total = applied
        for slug in slugs { total += try await migrateTenant(slug) }
        return total
    }

    /// Migrates `public` only; returns how many files were applied and the tenants that exist.
    public func migratePublic() async throws -> (applied: Int, tenants: [TenantSlug]) {
        try await database.client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))", logger: database.logger)
            return try await unlocking("SELECT pg_advisory_unlock(\(Self.lockKey))", on: connection) {
                let applied = try await apply(migrations.global, schema: "public", on: connection)
                let rows = try await connection.query("SELECT slug FROM public.tenants ORDER BY slug", logger: database.logger)
                var slugs: [TenantSlug] = []
                for try await slug in rows.decode(String.self) {
                    if let valid = TenantSlug(slug) { slugs.append(valid) }
                }
                return (applied, slugs)
            }
        }
    }

    /// Creates the tenant's schema if needed and applies the tenant migrations to it.
    @discardableResult
    public func migrateTenant(_ slug: TenantSlug) async throws -> Int {
        try await database.client.withConnection { connection in
            try await connection.query(
                "SELECT pg_advisory_lock_shared(\(Self.lockKey)), pg_advisory_lock(hashtextextended(\("owl-migrate:" + slug.schemaName), 0))",
                logger: database.logger)
            return try await unlocking(
                "SELECT pg_advisory_unlock(hashtextextended(\("owl-migrate:" + slug.schemaName), 0)), pg_advisory_unlock_shared(\(Self.lockKey))",
                on: connection
            ) {
                try await connection.query("CREATE SCHEMA IF NOT EXISTS \(unescaped: slug.quotedSchema)", logger: database.logger)
                let applied = try await apply(migrations.tenant, schema: slug.schemaName, on: connection)
                try await setUp(slug, on: connection)
                return applied
            }
        }
    }

    /// Runs `body`, then `unlock`, whether `body` threw or not.
    private func unlocking<T: Sendable>(_ unlock: PostgresQuery, on connection: PostgresConnection, _ body: () async throws -> T) async throws -> T {
        do {
            let result = try await body()
            try await connection.query(unlock, logger: database.logger)
            return result
        } catch {
            _ = try? await connection.query(unlock, logger: database.logger)
            throw error
        }
    }

    private func setUp(_ slug: TenantSlug, on connection: PostgresConnection) async throws {
        guard let setup = migrations.tenantSetup else { return }
        try await connection.query("BEGIN", logger: database.logger)
        do {
            try await connection.query("SET LOCAL search_path TO \(unescaped: slug.quotedSchema), public", logger: database.logger)
            try await setup(connection, database.logger)
            try await connection.query("COMMIT", logger: database.logger)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: database.logger)
            throw error
        }
    }

    private func apply(_ files: [Migration], schema: String, on connection: PostgresConnection) async throws -> Int {
        let quoted = "\"\(schema)\""
        try await connection.query(
            "CREATE TABLE IF NOT EXISTS \(unescaped: quoted).schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
            logger: database.logger
        )
        var done = Set<String>()
        let rows = try await connection.query("SELECT version FROM \(unescaped: quoted).schema_migrations", logger: database.logger)
        for try await version in rows.decode(String.self) { done.insert(version) }
        var count = 0
        for migration in files where !done.contains(migration.id) {
            do {
                try await connection.query("BEGIN", logger: database.logger)
                try await connection.query("SET LOCAL search_path TO \(unescaped: quoted), public", logger: database.logger)
                for statement in SQLScript.statements(migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: database.logger)
                }
                try await connection.query(
                    "INSERT INTO \(unescaped: quoted).schema_migrations (version) VALUES (\(migration.id))", logger: database.logger)
                try await connection.query("COMMIT", logger: database.logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: database.logger)
                throw MigrationError(migration: migration.id, schema: schema, underlying: String(reflecting: error))
            }
            database.logger.info("applied migration", metadata: ["migration": .string(migration.id), "schema": .string(schema)])
            count += 1
        }
        return count
    }
}

public struct MigrationError: Error, CustomStringConvertible {
    public let migration: String
    public let schema: String
    public let underlying: String
    public var description: String { "migration \(migration) failed in schema \(schema): \(underlying)" }
}
