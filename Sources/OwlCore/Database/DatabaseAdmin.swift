import Foundation
import Logging
import PostgresNIO

/// Server-level chores: creating a service's database when it is missing.
public enum DatabaseAdmin {
    /// Creates `url.database` on its server unless it exists (connects to the `postgres` database to do so).
    public static func ensureDatabase(_ url: DatabaseURL, logger: Logger) async throws {
        let name = url.database
        guard name.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) }) else {
            throw ConfigError(variable: "database name", problem: "'\(name)' must be lower-case letters, digits and underscores")
        }
        let client = PostgresClient(configuration: url.with(database: "postgres").clientConfiguration(), backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            let rows = try await client.query("SELECT 1 FROM pg_database WHERE datname = \(name)", logger: logger)
            var exists = false
            for try await _ in rows { exists = true }
            if !exists {
                do {
                    try await client.query("CREATE DATABASE \(unescaped: "\"\(name)\"")", logger: logger)
                } catch where PostgresErrorCode.code(of: error) == "42P04" {
                    // Created by another process in the meantime.
                }
            }
        }
    }

    /// Whether `slug` is provisioned; false on a database that has not been migrated yet.
    public static func tenantExists(_ slug: TenantSlug, in database: Database) async throws -> Bool {
        try await database.transaction { connection in
            let rows = try await connection.query("""
                SELECT to_regclass('public.tenants') IS NOT NULL
                   AND EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = \(slug.schemaName))
                """, logger: database.logger)
            for try await exists in rows.decode(Bool.self) { return exists }
            return false
        }
    }
}
