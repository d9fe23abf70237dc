import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import OwlCore
import PostgresNIO
import ServiceLifecycle

/// Runs one service in one mode from its configuration.
struct ServiceRunner {
    let definition: ServiceDefinition
    let config: ServiceConfig

    /// Reads the configuration or exits with status 2 and one line naming the variable, before any port is bound.
    static func loadConfig(_ definition: ServiceDefinition, environment: [String: String] = ProcessInfo.processInfo.environment) -> ServiceConfig {
        do {
            let config = try ServiceConfig.load(prefix: definition.environmentPrefix, serviceName: definition.name,
                                                defaultPort: definition.defaultPort, environment: environment)
            OwlLogging.bootstrap(format: config.logFormat, level: config.logLevel)
            return config
        } catch {
            fail(error)
        }
    }

    static func fail(_ error: ConfigError) -> Never {
        FileHandle.standardError.write(Data("owl: \(error.description)\n".utf8))
        exit(2)
    }

    var logger: Logger {
        var logger = Logger(label: definition.name)
        logger.logLevel = config.logLevel
        return logger
    }

    func run(_ mode: Mode) async throws {
        switch mode {
        case .api:
            let app = ServiceApplication.make(definition: definition, config: config, logger: logger, httpClient: HTTPClient.shared)
            try await app.runService()
        case .worker:
            try await runWorker()
        case .migrate:
            let applied = try await withDatabase { try await Migrator(database: $0, migrations: definition.allMigrations).migrateAll() }
            print("\(definition.name): \(applied) migration(s) applied")
        case .seed:
            try await withDatabase { try await Seeder(definition: definition, database: $0).seed() }
            print("\(definition.name): seeded tenant \(Seeder.devTenant); dev API key: \(Seeder.devAPIKey)")
        case .seedDemo:
            try await withDatabase { try await Seeder(definition: definition, database: $0).seedDemo() }
            print("\(definition.name): recreated tenant \(Seeder.devTenant) with demo data")
        }
    }

    /// The background side: the database pool and the audit writer, plus the service's workers as they are added.
    func runWorker() async throws {
        let client = PostgresClient(configuration: config.databaseURL.clientConfiguration(poolSize: config.databasePoolSize),
                                    backgroundLogger: logger)
        let database = Database(client: client, logger: logger)
        let audit = AuditWriter(database: database, logger: logger)
        let metrics = HTTPMetrics(prefix: definition.name)
        let clock = WallClock.system
        let heartbeat = WorkerHeartbeat(started: clock.now)
        let environment = WorkerEnvironment(database: database, tenantConfig: TenantConfigService(database: database, key: config.encryptionKey, clock: clock),
                                            http: HTTPClient.shared, config: config, logger: logger, metrics: metrics, clock: clock,
                                            heartbeat: heartbeat)
        let workers = definition.workers(environment)
        let status = WorkerStatusServer.application(config: config, metrics: metrics, heartbeat: heartbeat, logger: logger, clock: clock)
        logger.info("worker started", metadata: ["service": .string(definition.name), "workers": .string("\(workers.count)"),
                                                 "status": .string("http://\(config.metricsHost):\(config.metricsPort)")])
        let group = ServiceGroup(configuration: .init(services: [client, audit, status] + workers, gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: logger))
        try await group.run()
    }

    func createTenant(slug: TenantSlug, name: String) async throws -> TenantProvisioner.Result {
        try await withDatabase { database in
            let migrator = Migrator(database: database, migrations: definition.allMigrations)
            try await migrator.migrateAll()
            return try await TenantProvisioner(database: database, migrator: migrator).create(slug: slug, name: name)
        }
    }

    func listTenants() async throws -> [Tenant] {
        try await withDatabase { try await TenantStore(database: $0).list() }
    }

    /// Runs `body` with a live pool, then shuts the pool down.
    func withDatabase<T: Sendable>(_ body: @escaping @Sendable (Database) async throws -> T) async throws -> T {
        let client = PostgresClient(configuration: config.databaseURL.clientConfiguration(), backgroundLogger: logger)
        let database = Database(client: client, logger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { await client.run(); return nil }
            defer { group.cancelAll() }
            return try await body(database)
        }
    }
}
