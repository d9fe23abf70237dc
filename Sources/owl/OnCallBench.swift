import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NightOwl
import OwlCore

/// `owl bench oncall`: answering `oncall?at=` through the API, and computing a year of shifts for a roster with
/// overrides (both in memory and through `/schedule`). The workload is fixed: an 8-person weekly roster in
/// Europe/Berlin with 52 overrides over the year, and a follow-the-sun roster (Auckland + Berlin, 3 people each).
struct OnCallBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "oncall", abstract: "Who-is-on-call latency and a year of shifts.")

    @Option(help: "PostgreSQL URL; default: a private cluster under --data-dir.") var databaseURL: String?
    @Option(help: "Folder for the private cluster.") var dataDir = ".owl-bench"
    @Option(help: "Measured oncall requests per roster.") var requests = 2_000
    @Option(help: "Port to serve NightOwl on.") var port = 18_082

    static let year = DateInterval(start: Date(timeIntervalSince1970: 1_767_225_600), duration: 365 * 86_400) // 2026

    func run() async throws {
        let (logger, config) = try await BenchEnvironment.prepare(databaseURL: databaseURL, dataDir: dataDir, port: port, poolSize: 8)
        let slug = TenantSlug("bench_oncall")!
        let key = try await BenchEnvironment.withMigratedDatabase(config) { database, provisioner -> String in
            try await provisioner.drop(slug: slug)
            _ = try await provisioner.create(slug: slug, name: "On-call benchmark", issueAdminKey: false)
            guard let tenant = try await TenantStore(database: database).find(slug: slug) else { throw ExitCode(1) }
            return try await APIKeyStore(database: database).create(tenantID: tenant.id, role: .admin, scopes: [], description: "bench",
                                                                    expiresAt: WallClock.system.now.addingTimeInterval(3600)).rawKey
        }
        let requests = self.requests
        let port = self.port
        let lines = try await BenchEnvironment.serving(NightOwlService.definition, config: config, logger: logger) { () async throws -> [String] in
            let api = BenchAPI(base: "http://127.0.0.1:\(port)", key: key)
            var users: [String] = []
            for n in 0..<14 {
                let user = try await api.post("/api/v1/users", #"{"email":"p\#(n)@bench.example","display_name":"Person \#(n)","role":"engineer"}"#)
                users.append(user.objectValue?["id"]?.stringValue ?? "")
            }
            let members = users.prefix(8).map { "\"\($0)\"" }.joined(separator: ",")
            let weekly = try await api.post("/api/v1/rosters", #"""
                {"name":"Weekly","timezone":"Europe/Berlin","rotation_type":"weekly","handoff_time":"09:00","start_date":"2025-01-06","members":[\#(members)]}
                """#).objectValue?["id"]?.stringValue ?? ""
            for week in 0..<52 {
                let start = Self.year.start.addingTimeInterval(Double(week) * 7 * 86_400 + 2 * 86_400 + 12 * 3_600)
                _ = try await api.post("/api/v1/rosters/\(weekly)/overrides", #"""
                    {"user_id":"\#(users[8 + week % 6])","start":"\#(Timestamp.format(start))","end":"\#(Timestamp.format(start.addingTimeInterval(6 * 3_600)))"}
                    """#)
            }
            let apac = users[8..<11].map { "\"\($0)\"" }.joined(separator: ",")
            let emea = users[11..<14].map { "\"\($0)\"" }.joined(separator: ",")
            let global = try await api.post("/api/v1/rosters", #"""
                {"name":"Global","timezone":"UTC","rotation_type":"weekly","handoff_time":"00:00","start_date":"2025-01-01","is_follow_the_sun":true,
                 "sub_rosters":[{"name":"APAC","timezone":"Pacific/Auckland","coverage":{"start":"08:00","end":"20:00"},"members":[\#(apac)]},
                                {"name":"EMEA","timezone":"Europe/Berlin","coverage":{"start":"08:00","end":"20:00"},"members":[\#(emea)]}]}
                """#).objectValue?["id"]?.stringValue ?? ""

            var result: [String] = []
            for (name, roster) in [("weekly + 52 overrides", weekly), ("follow-the-sun", global)] {
                var generator = SystemRandomNumberGenerator()
                let instants = (0..<(requests + 100)).map { _ in Self.year.start.addingTimeInterval(Double.random(in: 0..<Self.year.duration, using: &generator)) }
                for at in instants.prefix(100) { _ = try await api.get("/api/v1/rosters/\(roster)/oncall?at=\(Timestamp.format(at))") }
                var latencies: [Duration] = []
                for at in instants.dropFirst(100) {
                    latencies.append(try await api.get("/api/v1/rosters/\(roster)/oncall?at=\(Timestamp.format(at))").1)
                }
                latencies.sort()
                result.append(String(format: "oncall?at= (%@), %d requests on 1 connection: p50 %.2f ms, p95 %.2f ms, p99 %.2f ms", name, requests,
                                     BenchEnvironment.percentile(latencies, 0.5), BenchEnvironment.percentile(latencies, 0.95),
                                     BenchEnvironment.percentile(latencies, 0.99)))
                var schedule: [Duration] = []
                var count = 0
                let window = "from=\(Timestamp.format(Self.year.start))&to=\(Timestamp.format(Self.year.end))"
                for _ in 0..<50 {
                    let (body, took) = try await api.get("/api/v1/rosters/\(roster)/schedule?\(window)")
                    if case .array(let items)? = body.objectValue?["items"] { count = items.count }
                    schedule.append(took)
                }
                schedule.sort()
                result.append(String(format: "a year of shifts via /schedule (%@, %d shifts): p50 %.2f ms, p95 %.2f ms", name, count,
                                     BenchEnvironment.percentile(schedule, 0.5), BenchEnvironment.percentile(schedule, 0.95)))
            }
            result.append(Self.inMemoryYear())
            return result
        }
        lines.forEach { print($0) }
    }

    /// The pure computation alone: the same weekly roster and overrides as plain values.
    static func inMemoryYear() -> String {
        let people = (0..<14).map { _ in UUID() }
        let overrides = (0..<52).map { week -> OverrideSpan in
            let start = year.start.addingTimeInterval(Double(week) * 7 * 86_400 + 2 * 86_400 + 12 * 3_600)
            return OverrideSpan(id: UUID(), userID: people[8 + week % 6], interval: DateInterval(start: start, duration: 6 * 3_600),
                                createdAt: Date(timeIntervalSince1970: Double(week)))
        }
        let plan = OnCallPlan(rosterID: UUID(), rotation: Rotation(zone: Zone(identifier: "Europe/Berlin")!, startDate: LocalDate("2025-01-06")!,
                                                                   handoff: LocalTime("09:00")!, lengthDays: 7),
                              members: Array(people.prefix(8)), overrides: overrides)
        let clock = ContinuousClock()
        var shifts = 0
        let rounds = 500
        let took = clock.measure {
            for _ in 0..<rounds { shifts = OnCallTimeline.segments(plan, in: year).count }
        }
        let micros = Double(took.components.seconds) * 1e6 + Double(took.components.attoseconds) / 1e12
        return String(format: "a year of shifts in memory (weekly + 52 overrides, %d shifts): %.1f µs per year (%d rounds)", shifts,
                      micros / Double(rounds), rounds)
    }
}

/// A JSON client for the benchmark: fails loudly on any non-2xx.
struct BenchAPI: Sendable {
    let base: String
    let key: String

    func post(_ path: String, _ json: String) async throws -> JSONValue {
        var request = HTTPClientRequest(url: base + path)
        request.method = .POST
        request.headers.add(name: "X-API-Key", value: key)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: json))
        return try await send(request).0
    }

    func get(_ path: String) async throws -> (JSONValue, Duration) {
        var request = HTTPClientRequest(url: base + path)
        request.headers.add(name: "X-API-Key", value: key)
        return try await send(request)
    }

    private func send(_ request: HTTPClientRequest) async throws -> (JSONValue, Duration) {
        let clock = ContinuousClock()
        let start = clock.now
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 32 << 20)
        let took = clock.now - start
        guard (200..<300).contains(Int(response.status.code)) else {
            FileHandle.standardError.write(Data("\(request.method.rawValue) \(request.url): \(response.status) \(String(buffer: body))\n".utf8))
            throw ExitCode(1)
        }
        return (JSONValue.parse(body) ?? .null, took)
    }
}
