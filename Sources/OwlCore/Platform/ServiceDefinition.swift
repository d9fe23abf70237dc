import AsyncHTTPClient
import Foundation
import PostgresNIO
import ServiceLifecycle

/// What a worker is given: the pool, tenant configuration, the HTTP client, the configuration, a logger, the
/// service's metrics (served by the API in `owl dev`, by the worker's own status server in `--mode worker`) and the
/// heartbeat its status server reports.
public struct WorkerEnvironment: Sendable {
    public var database: Database
    public var tenantConfig: TenantConfigService
    public var http: HTTPClient
    public var config: ServiceConfig
    public var logger: Logger
    public var metrics: HTTPMetrics
    public var heartbeat: WorkerHeartbeat
    public var clock: WallClock
    /// The circuit breakers of the worker's calls to the other Owl services.
    public let serviceBreakers = CircuitBreakers()

    public init(database: Database, tenantConfig: TenantConfigService, http: HTTPClient, config: ServiceConfig, logger: Logger,
                metrics: HTTPMetrics, clock: WallClock, heartbeat: WorkerHeartbeat? = nil) {
        self.clock = clock
        self.database = database
        self.tenantConfig = tenantConfig
        self.http = http
        self.config = config
        self.logger = logger
        self.metrics = metrics
        self.heartbeat = heartbeat ?? WorkerHeartbeat(started: clock.now)
    }
}

extension WorkerEnvironment {
    /// A client for calling another Owl service on a tenant's behalf.
    public func service(_ target: OwlServiceTarget) -> OwlServiceClient {
        OwlServiceClient(target: target, tenantConfig: tenantConfig, http: http, clock: clock, breakers: serviceBreakers, metrics: metrics,
                         logger: logger)
    }
}

/// What makes one Owl service: its name, its migrations, its OpenAPI document, its routes and its seed data.
/// The platform (auth, tenancy, users, keys, config, audit, health) is the same for all three.
public struct ServiceDefinition: Sendable {
    /// `nightowl`, `bookowl`, `ticketowl`: the environment prefix and metrics namespace.
    public var name: String
    public var displayName: String
    public var defaultPort: Int
    public var migrations: MigrationSet
    public var openAPIDocument: String
    public var registerRoutes: @Sendable (OwlRouter, Platform) -> Void
    /// Adds the service's own sample data to a seeded tenant (runs inside the tenant's transaction).
    public var seed: @Sendable (PostgresConnection, Logger) async throws -> Void
    /// Adds the full demo data set to a freshly recreated tenant.
    public var seedDemo: @Sendable (PostgresConnection, Logger) async throws -> Void
    /// The service's background jobs of `--mode worker` (escalation engine, deliveries, scheduled jobs); the shared
    /// outbox's delivery runs after them in every service.
    public var jobs: @Sendable (WorkerEnvironment) -> [TenantJob]
    /// Where a browser goes after signing in when it asked for no page.
    public var homePath = "/auth/account"

    public init(name: String, displayName: String, defaultPort: Int, migrations: MigrationSet, openAPIDocument: String,
                registerRoutes: @escaping @Sendable (OwlRouter, Platform) -> Void,
                seed: @escaping @Sendable (PostgresConnection, Logger) async throws -> Void = { _, _ in },
                seedDemo: @escaping @Sendable (PostgresConnection, Logger) async throws -> Void = { _, _ in },
                jobs: @escaping @Sendable (WorkerEnvironment) -> [TenantJob] = { _ in [] }, homePath: String = "/auth/account") {
        self.jobs = jobs
        self.homePath = homePath
        self.name = name
        self.displayName = displayName
        self.defaultPort = defaultPort
        self.migrations = migrations
        self.openAPIDocument = openAPIDocument
        self.registerRoutes = registerRoutes
        self.seed = seed
        self.seedDemo = seedDemo
    }

    /// A service that serves the platform's routes (health, users, API keys, config, audit) and none of its own yet.
    public static func platformOnly(name: String, displayName: String, defaultPort: Int, summary: String) -> ServiceDefinition {
        ServiceDefinition(name: name, displayName: displayName, defaultPort: defaultPort, migrations: MigrationSet(global: [], tenant: []),
                          openAPIDocument: OpenAPIDocument.compose(title: "\(displayName) API", description: summary, paths: "", schemas: ""),
                          registerRoutes: { _, _ in })
    }

    /// What `--mode worker` runs: one tenant worker with the service's jobs and the outbox's delivery.
    public func workers(_ environment: WorkerEnvironment) -> [any Service] {
        [TenantWorker(jobs: jobs(environment) + [OutboxDeliverer(environment).job(), ConsoleEventRetention.job(environment)], environment: environment)]
    }

    /// The platform's migrations followed by the service's.
    public var allMigrations: MigrationSet { .platform(plus: migrations) }

    public var environmentPrefix: String { name.uppercased() }
}

import Logging
