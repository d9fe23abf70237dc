import Foundation
import Logging
import OwlCore
import PostgresNIO

/// The PostgreSQL every test talks to: `OWL_TEST_DATABASE_URL` (the test script starts a private cluster and sets it).
/// One pool per test process, migrated once; each test gets tenants of its own, so tests run in parallel.
public enum TestDatabase {
    public static let logger: Logger = {
        var logger = Logger(label: "owl-tests")
        logger.logLevel = ProcessInfo.processInfo.environment["OWL_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }()

    public static var url: DatabaseURL {
        get throws {
            guard let raw = ProcessInfo.processInfo.environment["OWL_TEST_DATABASE_URL"] else {
                throw SetupError("OWL_TEST_DATABASE_URL is not set: run the tests with scripts/test, which starts PostgreSQL")
            }
            return try DatabaseURL(parsing: raw)
        }
    }

    /// A running pool with `maximumConnections` connections (the pool runs until the process ends).
    public static func makeClient(maximumConnections: Int = 20) throws -> PostgresClient {
        let client = PostgresClient(configuration: try url.clientConfiguration(poolSize: maximumConnections), backgroundLogger: logger)
        Task.detached { await client.run() }
        return client
    }

    private static let shared = SharedPool()

    /// A brand-new, empty database of its own, for tests that must not see other tests' tenants.
    public static func isolatedDatabase() async throws -> Database {
        let name = "owl_iso_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let isolated = try url.with(database: String(name))
        try await DatabaseAdmin.ensureDatabase(isolated, logger: logger)
        let client = PostgresClient(configuration: isolated.clientConfiguration(poolSize: 5), backgroundLogger: logger)
        Task.detached { await client.run() }
        return Database(client: client, logger: logger)
    }

    /// The process-wide database with `public` migrated for `definition`; each test's tenants are migrated when made.
    public static func database(for definition: ServiceDefinition = PlatformOnlyService.definition) async throws -> Database {
        let database = try await shared.database()
        try await shared.migrateOnce(definition.name) {
            _ = try await Migrator(database: database, migrations: definition.allMigrations).migratePublic()
        }
        return database
    }

    /// A new tenant with a unique slug and its first admin key.
    public static func makeTenant(_ database: Database, definition: ServiceDefinition = PlatformOnlyService.definition,
                                  name: String = "Test Tenant") async throws -> (Tenant, adminKey: String) {
        let slug = TenantSlug("t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20))!
        let result = try await TenantProvisioner(database: database, migrator: Migrator(database: database, migrations: definition.allMigrations))
            .create(slug: slug, name: name)
        return (result.tenant, result.adminKey!)
    }

    public struct SetupError: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }
}

actor SharedPool {
    private var db: Database?
    private var migrated: Set<String> = []

    func database() throws -> Database {
        if let db { return db }
        let created = Database(client: try TestDatabase.makeClient(maximumConnections: 60), logger: TestDatabase.logger)
        db = created
        return created
    }

    func migrateOnce(_ name: String, _ body: () async throws -> Void) async throws {
        guard !migrated.contains(name) else { return }
        try await body()
        migrated.insert(name)
    }
}

/// A service with only the platform's routes and migrations, for testing the platform itself.
public enum PlatformOnlyService {
    public static var definition: ServiceDefinition {
        ServiceDefinition(name: "owltest", displayName: "Owl Test", defaultPort: 0,
                          migrations: MigrationSet(global: [], tenant: []),
                          openAPIDocument: OpenAPIDocument.compose(title: "Owl Test", description: "Platform only.", paths: "", schemas: ""),
                          registerRoutes: { _, _ in })
    }
}

extension Database {
    /// The first column of the first row of a query run in the tenant's schema (a count, an existence check).
    public func scalar<T: PostgresDecodable & Sendable>(_ query: PostgresQuery, in tenant: TenantSlug, as type: T.Type = Int.self) async throws -> T? {
        try await withTenant(tenant) { connection in
            let rows = try await connection.query(query, logger: TestDatabase.logger)
            for try await value in rows.decode(T.self) { return value }
            return nil
        }
    }
}
