import Foundation
import Logging
import PostgresNIO

/// Development data: tenant `acme`, two users, the well-known dev API key and the service's sample data.
public struct Seeder: Sendable {
    public static let devTenant = TenantSlug("acme")!
    public static let devAPIKey = "ow_dev_seed_key_do_not_use_in_production"

    let definition: ServiceDefinition
    let database: Database

    public init(definition: ServiceDefinition, database: Database) {
        self.definition = definition
        self.database = database
    }

    var migrator: Migrator { Migrator(database: database, migrations: definition.allMigrations) }

    /// Idempotent: running it twice leaves the same data.
    public func seed() async throws {
        try await migrator.migrateAll()
        let result = try await TenantProvisioner(database: database, migrator: migrator)
            .create(slug: Self.devTenant, name: "Acme Corp", issueAdminKey: false)
        try await APIKeyStore(database: database).ensure(tenantID: result.tenant.id, raw: Self.devAPIKey, role: .admin,
                                                         description: "development seed key")
        let users = UserStore(database: database)
        try await database.withTenant(Self.devTenant) { connection in
            try await users.ensure(email: "alice@acme.example", displayName: "Alice Admin", role: .admin, on: connection)
            try await users.ensure(email: "bob@acme.example", displayName: "Bob Engineer", role: .engineer, on: connection)
            // One person per other role, so that a demo shows what each may do.
            try await users.ensure(email: "maria@acme.example", displayName: "Maria Manager", role: .manager, on: connection)
            try await users.ensure(email: "rita@acme.example", displayName: "Rita Reader", role: .readonly, on: connection)
            try await definition.seed(connection, database.logger)
        }
    }

    /// Destructive: drops `acme` and builds it again with the full demo data.
    public func seedDemo() async throws {
        try await migrator.migrateAll()
        try await TenantProvisioner(database: database, migrator: migrator).drop(slug: Self.devTenant)
        try await seed()
        try await database.withTenant(Self.devTenant) { try await definition.seedDemo($0, database.logger) }
    }
}
