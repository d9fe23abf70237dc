import AsyncHTTPClient
import Foundation
import OwlCore

/// What a worker test needs: a database of its own (a worker's pass visits every tenant, so the shared test database,
/// full of other tests' tenants, would not do) and the environment a service's workers are built from.
public enum TestWorker {
    /// A fresh database with `public` migrated for `definition` and `count` tenants.
    public static func isolatedTenants(_ definition: ServiceDefinition = PlatformOnlyService.definition,
                                       count: Int) async throws -> (database: Database, tenants: [Tenant]) {
        let database = try await TestDatabase.isolatedDatabase()
        _ = try await Migrator(database: database, migrations: definition.allMigrations).migratePublic()
        var tenants: [Tenant] = []
        for _ in 0..<count { tenants.append(try await TestDatabase.makeTenant(database, definition: definition).0) }
        return (database, tenants)
    }

    public static func environment(_ database: Database, clock: WallClock, metrics: HTTPMetrics = HTTPMetrics(prefix: "owltest"),
                                   configure: (inout ServiceConfig) -> Void = { _ in }) throws -> WorkerEnvironment {
        var config = ServiceConfig(serviceName: "owltest", databaseURL: try TestDatabase.url, devMode: false, logLevel: .critical,
                                   logFormat: .text, encryptionKey: SecretKey(bytes: Array(repeating: 7, count: 32))!)
        configure(&config)
        return WorkerEnvironment(database: database, tenantConfig: TenantConfigService(database: database, key: config.encryptionKey, clock: clock),
                                 http: HTTPClient.shared, config: config, logger: TestDatabase.logger, metrics: metrics, clock: clock)
    }
}

extension TestWorker {
    /// Runs one pass of `definition`'s worker (its jobs and the outbox's delivery) over a fresh tenant, with the
    /// service's jobs given the base URL of a local server; returns what that server received.
    public static func onePass(_ definition: ServiceDefinition,
                               jobs: @escaping @Sendable (WorkerEnvironment, String) -> [TenantJob]) async throws -> [ScriptedServer.Seen] {
        let (database, _) = try await isolatedTenants(definition, count: 1)
        let environment = try environment(database, clock: .system)
        let server = ScriptedServer()
        return try await server.run { base in
            var service = definition
            service.jobs = { jobs($0, base) }
            for worker in service.workers(environment) { await (worker as? TenantWorker)?.pass() }
            return server.seen
        }
    }
}
