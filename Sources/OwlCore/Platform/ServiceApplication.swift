import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import PostgresNIO
import ServiceLifecycle

/// The composition root of a service: builds the router from explicit dependencies. Tests call this too.
public struct ServiceApplication {
    public let platform: Platform
    public let routes: [RouteDescriptor]
    public let router: Router<OwlRequestContext>
    /// Feeds the consoles' event streams of this process.
    public let consoleEvents: ConsoleEventHub

    public init(definition: ServiceDefinition, platform: Platform, httpClient: HTTPClient) {
        self.platform = platform
        let router = Router(context: OwlRequestContext.self)
        let registered = RouteList()
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: OwlCORSMiddleware(origins: platform.config.corsOrigins))
        router.add(middleware: MetricsMiddleware(metrics: platform.metrics))
        router.add(middleware: ErrorMiddleware(routes: registered))
        router.add(middleware: URLGuardMiddleware())
        router.add(middleware: BodyLimitMiddleware(limit: platform.config.bodyLimitBytes))
        router.add(middleware: AuthenticationMiddleware(authenticator: platform.authenticator))
        router.add(middleware: CSRFMiddleware(bodyLimit: platform.config.bodyLimitBytes))

        let owlRouter = OwlRouter(router: router)
        SystemRoutes(platform: platform).register(on: owlRouter)
        UserRoutes(platform: platform).register(on: owlRouter)
        APIKeyRoutes(platform: platform).register(on: owlRouter)
        TenantConfigRoutes(platform: platform).register(on: owlRouter)
        AuditRoutes(platform: platform).register(on: owlRouter)
        OutboxRoutes(platform: platform).register(on: owlRouter)
        SignInRoutes(platform: platform, service: definition.displayName, home: definition.homePath,
                     accounts: LocalAccounts(database: platform.database, cost: platform.config.sessions.bcryptCost)).register(on: owlRouter)
        let hub = ConsoleEventHub(database: platform.database, logger: platform.logger)
        consoleEvents = hub
        ConsoleRoutes(platform: platform, assets: .shipped, hub: hub).register(on: owlRouter)
        definition.registerRoutes(owlRouter, platform)
        DocsRoutes(serviceName: definition.displayName, document: definition.openAPIDocument, routes: { registered.value })
            .register(on: owlRouter)
        registered.value = owlRouter.routes
        self.routes = owlRouter.routes
        self.router = router
    }

    /// The runnable application: the HTTP server plus the database pool and the audit writer, stopped in reverse
    /// order so that the audit writer flushes while the database pool is still up. `withWorkers` adds the service's
    /// background workers to the same process (what `owl dev` does; production runs them in `--mode worker`).
    public static func make(definition: ServiceDefinition, config: ServiceConfig, logger: Logger,
                            httpClient: HTTPClient, withWorkers: Bool = false) -> some ApplicationProtocol {
        let client = PostgresClient(configuration: config.databaseURL.clientConfiguration(poolSize: config.databasePoolSize),
                                    backgroundLogger: logger)
        let database = Database(client: client, logger: logger)
        let audit = AuditWriter(database: database, logger: logger)
        let platform = Platform(config: config, database: database, audit: audit,
                                metrics: HTTPMetrics(prefix: definition.name), logger: logger, httpClient: httpClient)
        let app = ServiceApplication(definition: definition, platform: platform, httpClient: httpClient)
        var application = Application(
            router: app.router,
            configuration: .init(address: .hostname(config.listenHost, port: config.listenPort), serverName: definition.displayName),
            logger: logger
        )
        application.addServices(client, audit, app.consoleEvents)
        if withWorkers {
            let environment = WorkerEnvironment(database: database, tenantConfig: platform.tenantConfig, http: httpClient, config: config,
                                                logger: logger, metrics: platform.metrics, clock: platform.clock)
            for worker in definition.workers(environment) { application.addServices(worker) }
        }
        return application
    }
}

extension DatabaseURL {
    public func clientConfiguration(poolSize: Int) -> PostgresClient.Configuration {
        var configuration = clientConfiguration()
        configuration.options.maximumConnections = poolSize
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }
}
