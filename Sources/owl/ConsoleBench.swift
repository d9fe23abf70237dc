import ArgumentParser
import Foundation
import Logging
import NightOwl
import OwlCore

/// NightOwl's console pages with a full tenant: the demo data (knowledge base, rosters, escalation policy) and
/// `--alerts` open alerts. Server time per page (the alerts list's first and a later page, an alert's page, home) and
/// the weight of the alerts page with its stylesheet and script.
struct ConsoleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "console", abstract: "Console page latency and weight through HTTP.")

    @Option(help: "PostgreSQL URL; default: a private cluster under --data-dir.") var databaseURL: String?
    @Option(help: "Folder for the private cluster.") var dataDir = ".owl-bench"
    @Option(help: "Open alerts in the tenant.") var alerts = 10_000
    @Option(help: "Measured requests per page.") var requests = 500
    @Option(help: "Port to serve NightOwl on.") var port = 18_081

    func run() async throws {
        let (logger, config) = try await BenchEnvironment.prepare(databaseURL: databaseURL, dataDir: dataDir, port: port, poolSize: 8)
        let slug = TenantSlug("bench_console")!
        let alerts = self.alerts
        let (key, alertID) = try await BenchEnvironment.withMigratedDatabase(config) { database, provisioner -> (String, UUID) in
            try await provisioner.drop(slug: slug)
            let tenant = try await provisioner.create(slug: slug, name: "Console benchmark", issueAdminKey: false).tenant
            print("generating the demo data and \(alerts) open alerts…")
            let first = try await database.withTenant(slug) { connection -> UUID in
                try await UserStore(database: database).ensure(email: "alice@acme.example", displayName: "Alice Admin", role: .admin, on: connection)
                try await NightOwlService.definition.seed(connection, logger)
                try await NightOwlService.definition.seedDemo(connection, logger)
                var first: UUID?
                for try await id in try await connection.query("""
                    INSERT INTO alerts (fingerprint, status, severity, source, title, description, labels, service, occurrence_count,
                                        first_fired_at, last_fired_at)
                    SELECT 'bench-' || n, CASE WHEN n % 5 = 0 THEN 'acknowledged' ELSE 'firing' END,
                           (ARRAY['critical', 'major', 'warning', 'info'])[1 + n % 4], 'alertmanager',
                           'Pod crash looping in namespace team-' || (n % 40) || ' (replica ' || n || ')',
                           'Back-off restarting failed container; exit code 137.', jsonb_build_object('alertname', 'KubePodCrashLooping', 'pod', 'api-' || n),
                           (ARRAY['payments-api', 'checkout', 'search-indexer', 'notification-worker'])[1 + n % 4], 1 + n % 7,
                           now() - make_interval(secs => n * 30), now() - make_interval(secs => n * 10)
                    FROM generate_series(1, \(alerts)) AS n
                    RETURNING id
                    """, logger: logger).decode(UUID.self) where first == nil { first = id }
                guard let first else { throw ExitCode(1) }
                return first
            }
            _ = try await database.withConnection { try await $0.query("VACUUM (ANALYZE) \(unescaped: slug.quotedSchema).alerts", logger: logger) }
            let key = try await APIKeyStore(database: database).create(tenantID: tenant.id, role: .engineer, scopes: [], description: "bench",
                                                                       expiresAt: WallClock.system.now.addingTimeInterval(3600)).rawKey
            return (key, first)
        }
        let (requests, port) = (self.requests, self.port)
        let output = try await BenchEnvironment.serving(NightOwlService.definition, config: config, logger: logger) { () async throws -> [String] in
            let load = LoopbackLoad(port: port)
            func page(_ path: String) -> [UInt8] { LoopbackLoad.get(path, headers: [("X-API-Key", key)]) }
            // The second page of the list, by the cursor the first one links to.
            let firstPage = try await load.fetch(page("/alerts"))
            let html = String(decoding: firstPage.body, as: UTF8.self)
            guard let next = html.range(of: #"href="(/alerts\?cursor=[^"]+)" rel="next""#, options: .regularExpression)
                .map({ String(html[$0].dropFirst(6).prefix { $0 != "\"" }) }) else { throw ExitCode(1) }
            let css = try await load.fetch(LoopbackLoad.get(ConsoleAssets.shipped.stylesheet.path, headers: []))
            let js = try await load.fetch(LoopbackLoad.get(ConsoleAssets.shipped.script.path, headers: []))
            var lines = [String(format: "alerts page weight: HTML %.1f KB + CSS %.1f KB + JS %.1f KB = %.1f KB before compression",
                                Double(firstPage.body.count) / 1024, Double(css.body.count) / 1024, Double(js.body.count) / 1024,
                                Double(firstPage.body.count + css.body.count + js.body.count) / 1024)]
            for (label, path) in [("alerts list, first page of 50", "/alerts"), ("alerts list, a later page", next.replacingOccurrences(of: "&amp;", with: "&")),
                                  ("alert page", "/alerts/\(alertID.uuidString.lowercased())"), ("home", "/")] {
                let request = page(path)
                _ = try await load.run(clients: 1, requests: { _ in Array(repeating: request, count: 20) }, check: { $0.status == 200 })
                var latencies = try await load.run(clients: 1, requests: { _ in Array(repeating: request, count: requests) },
                                                   check: { $0.status == 200 })
                latencies.sort()
                lines.append(label.padding(toLength: 32, withPad: " ", startingAt: 0)
                    + String(format: "p50 %6.2f ms  p95 %6.2f ms  p99 %6.2f ms", BenchEnvironment.percentile(latencies, 0.50),
                             BenchEnvironment.percentile(latencies, 0.95), BenchEnvironment.percentile(latencies, 0.99)))
            }
            return lines
        }
        print("\(alerts) open alerts, demo data, \(requests) requests per page on 1 connection:")
        for line in output { print(line) }
    }
}

extension LoopbackLoad {
    /// One request, and what came back.
    func fetch(_ request: [UInt8]) async throws -> Reply {
        let box = ReplyBox()
        _ = try await run(clients: 1, requests: { _ in [request] }, check: { reply in box.set(reply); return reply.status == 200 })
        guard let reply = box.get() else { throw Failure(description: "no reply") }
        return reply
    }
}

final class ReplyBox: @unchecked Sendable {
    private let lock = NSLock()
    private var reply: LoopbackLoad.Reply?
    func set(_ value: LoopbackLoad.Reply) { lock.withLock { reply = value } }
    func get() -> LoopbackLoad.Reply? { lock.withLock { reply } }
}
