import Foundation
import OwlCore
import OwlTestSupport
import PostgresNIO
import Testing

@Suite struct MigrationTests {
    @Test func runsAreIdempotentAndUpgradeEveryTenant() async throws {
        let database = try await TestDatabase.isolatedDatabase()
        let base = PlatformOnlyService.definition.allMigrations
        #expect(try await Migrator(database: database, migrations: base).migrateAll() == base.global.count)
        let (tenant, _) = try await TestDatabase.makeTenant(database)
        let (other, _) = try await TestDatabase.makeTenant(database)
        #expect(try await Migrator(database: database, migrations: base).migrateAll() == 0)

        // A new tenant migration reaches every existing tenant, exactly once.
        let table = "extra_\(UUID().uuidString.prefix(8).lowercased())"
        let upgraded = MigrationSet(global: base.global, tenant: base.tenant + [Migration(id: "test/\(table).sql", sql: "CREATE TABLE \(table) (id int);")])
        #expect(try await Migrator(database: database, migrations: upgraded).migrateAll() == 2)
        _ = other
        #expect(try await Migrator(database: database, migrations: upgraded).migrateAll() == 0)
        let exists = try await database.scalar("SELECT to_regclass(\(table)) IS NOT NULL", in: tenant.slug, as: Bool.self) ?? false
        #expect(exists)
    }

    @Test func concurrentMigratorsTakeTurns() async throws {
        let database = try await TestDatabase.database()
        let (tenant, _) = try await TestDatabase.makeTenant(database)
        let base = PlatformOnlyService.definition.allMigrations
        let table = "conc_\(UUID().uuidString.prefix(8).lowercased())"
        // Not idempotent on purpose: running it twice would fail, so two migrators must not both apply it.
        let set = MigrationSet(global: base.global, tenant: base.tenant + [Migration(id: "test/\(table).sql", sql: "CREATE TABLE \(table) (id int); SELECT pg_sleep(0.2);")])
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<3 { group.addTask { try await Migrator(database: database, migrations: set).migrateTenant(tenant.slug) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(counts.sorted() == [0, 0, 1])
    }

    @Test func failedMigrationLeavesNothingBehind() async throws {
        let database = try await TestDatabase.database()
        let (tenant, _) = try await TestDatabase.makeTenant(database)
        let base = PlatformOnlyService.definition.allMigrations
        let table = "bad_\(UUID().uuidString.prefix(8).lowercased())"
        let set = MigrationSet(global: base.global, tenant: base.tenant + [Migration(id: "test/\(table).sql", sql: "CREATE TABLE \(table) (id int); SELECT * FROM no_such_table;")])
        await #expect(throws: MigrationError.self) { try await Migrator(database: database, migrations: set).migrateTenant(tenant.slug) }
        let exists = try await database.scalar("SELECT to_regclass(\(table)) IS NOT NULL", in: tenant.slug, as: Bool.self) ?? true
        #expect(!exists)
    }
}
