import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NightOwl
import OwlCore
import ServiceLifecycle

/// Alert ingestion throughput and latency through the API: Alertmanager payloads over loopback, in two phases
/// (single-alert payloads, then `--batch`-alert payloads), over `--connections` connections.
struct IngestBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ingest", abstract: "Alert ingestion throughput through the API.")

    @Option(help: "PostgreSQL URL; default: a private cluster under --data-dir.") var databaseURL: String?
    @Option(help: "Folder for the private cluster.") var dataDir = ".owl-bench"
    @Option(help: "Alerts per phase.") var alerts = 100_000
    @Option(help: "Distinct fingerprints.") var fingerprints = 1_000
    @Option(help: "Concurrent connections.") var connections = 8
    @Option(help: "Alerts per payload in the second phase.") var batch = 100
    @Option(help: "Port to serve NightOwl on.") var port = 18_081
    @Flag(help: "Also time GET /healthz over the same connections first, and the database's share of a single-alert cycle last: the floors of this machine at this moment.")
    var floor = false

    func run() async throws {
        let (logger, config) = try await BenchEnvironment.prepare(databaseURL: databaseURL, dataDir: dataDir, port: port, poolSize: 12)
        let definition = NightOwlService.definition
        let slug = TenantSlug("bench_ingest")!
        let key = try await BenchEnvironment.withMigratedDatabase(config) { database, provisioner -> String in
            try await provisioner.drop(slug: slug)
            let created = try await provisioner.create(slug: slug, name: "Ingest benchmark", issueAdminKey: false)
            return try await APIKeyStore(database: database).create(tenantID: created.tenant.id, role: .engineer, scopes: [.webhook],
                                                                    description: "bench", expiresAt: WallClock.system.now.addingTimeInterval(3600)).rawKey
        }
        let bench = self
        try await BenchEnvironment.serving(definition, config: config, logger: logger) {
            if bench.floor { print(try await bench.floorPhase()) }
            for perPayload in [1, bench.batch] {
                print(try await bench.phase(key: key, perPayload: perPayload))
            }
        }
        if floor {
            let lines = try await ServiceRunner(definition: definition, config: config).withDatabase { database in
                try await bench.databaseFloor(database, schema: slug.schemaName)
            }
            for line in lines { print(line) }
        }
    }

    /// Sends `alerts` alerts in payloads of `perPayload`, spread over the connections; returns a report line.
    func phase(key: String, perPayload: Int) async throws -> String {
        let payloads = alerts / perPayload
        let requests = (0..<min(payloads, 1000)).map { p in
            LoopbackLoad.post("/api/v1/webhooks/alertmanager", headers: [("X-API-Key", key), ("Content-Type", "application/json")],
                              body: Self.payload((0..<perPayload).map { (p * perPayload + $0) % fingerprints }))
        }
        let run = try await drive(payloads: payloads, requests: requests)
        return String(format: "%d alerts in %d-alert payloads over %d connections: %.0f alerts/s, p50 %.2f ms, p99 %.2f ms per request, "
                      + "%.0f µs of this process's CPU per alert (%.2f cores)",
                      payloads * perPayload, perPayload, connections, Double(payloads * perPayload) / run.seconds,
                      BenchEnvironment.percentile(run.latencies, 0.5), BenchEnvironment.percentile(run.latencies, 0.99),
                      run.cpuSeconds * 1e6 / Double(payloads * perPayload), run.cpuSeconds / run.seconds)
    }

    /// As many GET /healthz as there are alerts: what the server, the load generator and the kernel cost per request
    /// with no body, no key and no database, to tell a slow machine from a slow change.
    func floorPhase() async throws -> String {
        let run = try await drive(payloads: alerts, requests: [LoopbackLoad.get("/healthz", headers: [])])
        return String(format: "%d GET /healthz over %d connections: %.0f requests/s, p50 %.2f ms, p99 %.2f ms, %.0f µs CPU per request (%.2f cores)",
                      alerts, connections, Double(alerts) / run.seconds, BenchEnvironment.percentile(run.latencies, 0.5),
                      BenchEnvironment.percentile(run.latencies, 0.99), run.cpuSeconds * 1e6 / Double(alerts), run.cpuSeconds / run.seconds)
    }

    /// Sends `payloads` requests (cycling through `requests`) over the connections; the server and the load generator
    /// share this process, so its CPU time is what both cost.
    private func drive(payloads: Int, requests: [[UInt8]]) async throws -> (latencies: [Duration], seconds: Double, cpuSeconds: Double) {
        let connections = self.connections
        let clock = ContinuousClock()
        let cpuStart = Self.processCPUSeconds()
        let start = clock.now
        let latencies = try await LoopbackLoad(port: port).run(clients: connections, requests: { client in
            stride(from: client, to: payloads, by: connections).map { requests[$0 % requests.count] }
        }, check: { $0.status == 200 }).sorted()
        let elapsed = clock.now - start
        let cpu = Self.processCPUSeconds() - cpuStart
        return (latencies, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, cpu)
    }

    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    static func payload(_ fingerprints: [Int]) -> [UInt8] {
        let alerts = fingerprints.map { n in
            """
            {"status":"firing","labels":{"alertname":"BenchAlert\(n % 50)","instance":"host-\(n)","severity":"\(["critical", "warning", "info"][n % 3])","job":"bench"},\
            "annotations":{"summary":"Bench alert \(n)","description":"Synthetic alert number \(n)"},"startsAt":"2026-01-01T00:00:00Z",\
            "endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus/graph","fingerprint":"bench-\(n)"}
            """
        }
        return Array((#"{"version":"4","status":"firing","receiver":"bench","groupKey":"{}","alerts":["# + alerts.joined(separator: ",") + "]}").utf8)
    }
}
