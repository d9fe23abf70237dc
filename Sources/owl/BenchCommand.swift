import ArgumentParser
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NightOwl
import OwlCore
import ServiceLifecycle

/// `owl bench …`: fixed workloads against a real server on loopback, for docs/benchmarks.md.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Run a benchmark with a fixed workload.", subcommands: [SearchBench.self, IngestBench.self, OnCallBench.self, ConsoleBench.self, EventStreamBench.self])
}

/// Shared set-up: a database (given, or a private cluster under --data-dir) and NightOwl serving it on loopback.
struct BenchEnvironment {
    static func databaseURL(given: String?, dataDir: String, logger: Logger) async throws -> DatabaseURL {
        if let given { return try DatabaseURL(parsing: given) }
        let cluster = DevCluster(root: URL(fileURLWithPath: dataDir).standardizedFileURL, logger: logger)
        let port = try await cluster.start(reset: false)
        let url = DatabaseURL(host: "127.0.0.1", port: port, username: DevCluster.superuser, password: nil, database: "owl_bench")
        try await DatabaseAdmin.ensureDatabase(url, logger: logger)
        return url
    }

    /// Serves `definition` on loopback for the duration of `body`, then stops it.
    static func serving<T: Sendable>(_ definition: ServiceDefinition, config: ServiceConfig, logger: Logger,
                                     _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let app = ServiceApplication.make(definition: definition, config: config, logger: logger, httpClient: HTTPClient.shared)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask { try await group.run(); return nil }
            for attempt in 0..<100 {
                let health = HTTPClientRequest(url: "http://127.0.0.1:\(config.listenPort)/healthz")
                if (try? await HTTPClient.shared.execute(health, timeout: .seconds(1))) != nil { break }
                if attempt == 99 { throw ExitCode(1) }
                try await Task.sleep(for: .milliseconds(100))
            }
            let result = try await body()
            await group.triggerGracefulShutdown()
            for try await _ in tasks {}
            return result
        }
    }

    /// Logging, database and NightOwl's configuration for a benchmark serving on `port`.
    static func prepare(databaseURL given: String?, dataDir: String, port: Int, poolSize: Int) async throws -> (Logger, ServiceConfig) {
        OwlLogging.bootstrap(format: .json, level: .warning)
        let logger = { var logger = Logger(label: "bench"); logger.logLevel = .warning; return logger }()
        let url = try await databaseURL(given: given, dataDir: dataDir, logger: logger)
        let config = ServiceConfig(serviceName: "nightowl", databaseURL: url, listenHost: "127.0.0.1", listenPort: port,
                                   logLevel: .warning, logFormat: .json, encryptionKey: ServiceConfig.devEncryptionKey,
                                   databasePoolSize: poolSize)
        return (logger, config)
    }

    /// Runs `body` with NightOwl's database migrated and a tenant provisioner.
    static func withMigratedDatabase<T: Sendable>(
        _ config: ServiceConfig, _ body: @escaping @Sendable (Database, TenantProvisioner) async throws -> T
    ) async throws -> T {
        let definition = NightOwlService.definition
        return try await ServiceRunner(definition: definition, config: config).withDatabase { database in
            let migrator = Migrator(database: database, migrations: definition.allMigrations)
            try await migrator.migrateAll()
            return try await body(database, TenantProvisioner(database: database, migrator: migrator))
        }
    }

    /// Latency percentiles of a sorted list of durations, in milliseconds.
    static func percentile(_ sorted: [Duration], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let index = min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)
        let (s, a) = sorted[max(0, index)].components
        return Double(s) * 1000 + Double(a) / 1e15
    }
}

/// Search p50/p95 through the API over a knowledge base of `--incidents` generated entries.
struct SearchBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "search", abstract: "Knowledge-base search latency through the API.")

    @Option(help: "PostgreSQL URL; default: a private cluster under --data-dir.") var databaseURL: String?
    @Option(help: "Folder for the private cluster.") var dataDir = ".owl-bench"
    @Option(help: "Entries in the knowledge base.") var incidents = 100_000
    @Option(help: "Measured requests.") var requests = 2_000
    @Option(help: "Port to serve NightOwl on.") var port = 18_080

    func run() async throws {
        let (logger, config) = try await BenchEnvironment.prepare(databaseURL: databaseURL, dataDir: dataDir, port: port, poolSize: 8)
        let definition = NightOwlService.definition
        let slug = TenantSlug("bench_search")!
        let incidents = self.incidents
        let key = try await BenchEnvironment.withMigratedDatabase(config) { database, provisioner -> String in
            var existing = -1
            if try await TenantStore(database: database).find(slug: slug) != nil {
                existing = try await database.withTenant(slug) { connection -> Int in
                    let rows = try await connection.query("SELECT count(*) FROM incidents", logger: logger)
                    for try await n in rows.decode(Int.self) { return n }
                    return 0
                }
            }
            if existing != incidents {
                print("generating \(incidents) knowledge-base entries…")
                try await provisioner.drop(slug: slug)
                _ = try await provisioner.create(slug: slug, name: "Search benchmark", issueAdminKey: false)
                let clock = ContinuousClock()
                let took = try await clock.measure {
                    try await database.withTenant(slug) { try await SearchBenchmarkData.insert(count: incidents, on: $0, logger: logger) }
                }
                print("generated in \(took)")
            }
            // Measured as the knowledge base runs once autovacuum has been by (visibility map set, statistics fresh).
            for table in ["incidents", "incident_postings", "incident_lexemes"] {
                _ = try await database.withConnection {
                    try await $0.query("VACUUM (ANALYZE) \(unescaped: slug.quotedSchema).\(unescaped: table)", logger: logger)
                }
            }
            guard let tenant = try await TenantStore(database: database).find(slug: slug) else { throw ExitCode(1) }
            return try await APIKeyStore(database: database).create(tenantID: tenant.id, role: .readonly, scopes: [],
                                                                    description: "bench", expiresAt: WallClock.system.now.addingTimeInterval(3600)).rawKey
        }
        let (requests, port) = (self.requests, self.port)
        let line = try await BenchEnvironment.serving(definition, config: config, logger: logger) { () async throws -> String in
            let load = LoopbackLoad(port: port)
            let prepared = SearchBenchmarkData.queries.map { q in
                LoopbackLoad.get("/api/v1/incidents/search?q=" + (q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q),
                                 headers: [("X-API-Key", key)])
            }
            _ = try await load.run(clients: 1, requests: { _ in prepared }, check: { $0.status == 200 })
            let clock = ContinuousClock()
            let started = clock.now
            // One client: latencies come back in the order the requests were sent.
            var latencies = try await load.run(clients: 1, requests: { _ in (0..<requests).map { prepared[$0 % prepared.count] } },
                                               check: { $0.status == 200 })
            var byQuery: [String: [Duration]] = [:]
            for (i, latency) in latencies.enumerated() {
                byQuery[SearchBenchmarkData.queries[i % SearchBenchmarkData.queries.count], default: []].append(latency)
            }
            let elapsed = clock.now - started
            latencies.sort()
            for q in SearchBenchmarkData.queries {
                let sorted = (byQuery[q] ?? []).sorted()
                let label = q.padding(toLength: 24, withPad: " ", startingAt: 0)
                print(label + String(format: "p50 %6.2f ms  p95 %6.2f ms", BenchEnvironment.percentile(sorted, 0.50), BenchEnvironment.percentile(sorted, 0.95)))
            }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            return String(format: "search over %d entries, %d requests on 1 connection: %.0f req/s, p50 %.2f ms, p95 %.2f ms, p99 %.2f ms",
                          incidents, requests, Double(requests) / seconds,
                          BenchEnvironment.percentile(latencies, 0.50), BenchEnvironment.percentile(latencies, 0.95),
                          BenchEnvironment.percentile(latencies, 0.99))
        }
        print(line)
    }
}
