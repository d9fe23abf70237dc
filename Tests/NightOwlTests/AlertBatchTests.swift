import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import OwlCore
import OwlTestSupport
import PostgresNIO
import Testing
@testable import NightOwl

/// Group commit as the ingestor runs it: several requests in one batch, the one-statement re-fire path first.
@Suite struct AlertBatchTests {
    static func event(_ fingerprint: String, _ action: AlertEvent.Action = .fire, title: String? = nil) -> AlertEvent {
        AlertEvent(action: action, fingerprint: fingerprint, severity: .warning, source: .alertmanager, title: title ?? "Alert \(fingerprint)",
                   description: "", labels: ["alertname": fingerprint], annotations: [:], service: nil, cluster: nil, namespace: nil,
                   runbookURL: nil, generatorURL: nil, firedAt: Date(), agent: nil, actor: "alertmanager")
    }

    /// Runs `requests` as one batch, as the ingestor would after gathering them, and returns each request's results.
    static func runBatch(_ f: NightOwlFixture, _ requests: [[AlertEvent]], logger: Logger = TestDatabase.logger) async throws -> [[EventResult]] {
        let batch = AlertBatch(database: f.app.database, metrics: AlertMetrics(metrics: HTTPMetrics(prefix: "test")), logger: logger)
        let jobs = JobCollector()
        return try await withThrowingTaskGroup(of: (Int, [EventResult]).self) { group in
            for (index, events) in requests.enumerated() {
                group.addTask {
                    let result: [EventResult] = try await withCheckedThrowingContinuation { continuation in
                        let job = AlertIngestor.Job(tenant: f.tenant.slug, events: events, continuation: continuation)
                        Task { () async -> Void in await jobs.add(index, job) }
                    }
                    return (index, result)
                }
            }
            while await jobs.count < requests.count { try await Task.sleep(for: .milliseconds(5)) }
            await batch.process(await jobs.inOrder)
            var results = Array(repeating: [EventResult](), count: requests.count)
            for try await (index, result) in group { results[index] = result }
            return results
        }
    }

    actor JobCollector {
        var jobs: [Int: AlertIngestor.Job] = [:]
        func add(_ index: Int, _ job: AlertIngestor.Job) { jobs[index] = job }
        var count: Int { jobs.count }
        var inOrder: [AlertIngestor.Job] { jobs.keys.sorted().compactMap { jobs[$0] } }
    }

    static func counts(_ f: NightOwlFixture) async throws -> [String: [Int]] {
        try await f.app.database.withTenant(f.tenant.slug) { connection in
            let rows = try await connection.query("SELECT fingerprint, occurrence_count FROM alerts ORDER BY first_fired_at, id", logger: TestDatabase.logger)
            var counts: [String: [Int]] = [:]
            for try await (fingerprint, count) in rows.decode((String, Int).self) { counts[fingerprint, default: []].append(count) }
            return counts
        }
    }

    /// A batch of repeats only is counted by the one-call path; a batch with one new fingerprint goes through the
    /// transaction whole. Either way every event is counted once and same-fingerprint events fold into one alert.
    @Test func requestsAreCountedWholeAndOnce() async throws {
        let f = try await NightOwlFixture.make()
        _ = try await Self.runBatch(f, [[Self.event("x")]])
        let repeats = try await Self.runBatch(f, [[Self.event("x")], [Self.event("x"), Self.event("x")]])
        #expect(repeats.map { $0.map(\.result) } == [[.deduplicated], [.deduplicated, .deduplicated]])
        #expect(try await Self.counts(f) == ["x": [4]])
        let results = try await Self.runBatch(f, [
            [Self.event("x")],
            [Self.event("x"), Self.event("y")],
            [Self.event("x", title: "again"), Self.event("x")],
        ])
        #expect(results.map { $0.map(\.result) } == [[.deduplicated], [.deduplicated, .created], [.deduplicated, .deduplicated]])
        #expect(Set(results.flatMap { $0.prefix(1) }.map(\.alertID)).count == 1)
        #expect(try await Self.counts(f) == ["x": [8], "y": [1]])
    }

    /// A batch that resolves and then fires the same fingerprint keeps arrival order: the fire opens a new alert.
    @Test func mixedBatchesKeepArrivalOrder() async throws {
        let f = try await NightOwlFixture.make()
        _ = try await Self.runBatch(f, [[Self.event("z")]])
        let results = try await Self.runBatch(f, [[Self.event("z", .resolve)], [Self.event("z")]])
        #expect(results.map { $0.map(\.result) } == [[.resolved], [.created]])
        #expect(try await Self.counts(f) == ["z": [1, 1]])
    }

    /// Concurrent batches over the same fingerprints in opposite orders lock rows in one order: none fails and
    /// none has to be retried, and every event is counted.
    @Test func concurrentBatchesInOppositeOrdersDoNotDeadlock() async throws {
        let f = try await NightOwlFixture.make()
        let fingerprints = (0..<40).map { "fp-\($0)" }
        _ = try await Self.runBatch(f, [fingerprints.map { Self.event($0) }])
        let warnings = RecordedWarnings()
        let logger = Logger(label: "batch-test") { _ in RecordingLogHandler(warnings: warnings) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for round in 0..<12 {
                group.addTask {
                    let order = round % 2 == 0 ? fingerprints : fingerprints.reversed()
                    // Half the rounds add a new fingerprint, which sends them through the transactional upsert.
                    let events = order.map { Self.event($0) } + (round % 4 < 2 ? [Self.event("new-\(round)")] : [])
                    let results = try await Self.runBatch(f, [events], logger: logger)
                    #expect(results[0].allSatisfy { $0.result == .deduplicated || $0.result == .created })
                }
            }
            try await group.waitForAll()
        }
        let counts = try await Self.counts(f)
        #expect(fingerprints.allSatisfy { counts[$0] == [13] })
        #expect(warnings.messages.isEmpty, "a batch failed and was retried: \(warnings.messages)")
    }

    /// An alert that leaves the open set while the re-fire call runs (a resolve committing in that instant): the call
    /// changes nothing, and the batch is stored the transactional way, every event counted once.
    /// The race is made by a trigger that skips the first update of "racer" (a sequence, which a rollback keeps).
    @Test func refireThatLosesARaceChangesNothing() async throws {
        let f = try await NightOwlFixture.make()
        _ = try await Self.runBatch(f, [[Self.event("x")], [Self.event("racer")]])
        try await f.app.database.withTenant(f.tenant.slug) { connection in
            for statement: PostgresQuery in [
                "CREATE SEQUENCE race_once",
                """
                CREATE FUNCTION race_skip() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.fingerprint = 'racer' AND nextval('race_once') = 1 THEN RETURN NULL; END IF;
                    RETURN NEW;
                END $$
                """,
                "CREATE TRIGGER race_skip BEFORE UPDATE ON alerts FOR EACH ROW EXECUTE FUNCTION race_skip()",
            ] { try await connection.query(statement, logger: TestDatabase.logger) }
        }
        let warnings = RecordedWarnings()
        let logger = Logger(label: "batch-test") { _ in RecordingLogHandler(warnings: warnings) }
        let results = try await Self.runBatch(f, [[Self.event("x")], [Self.event("racer")]], logger: logger)
        #expect(results.map { $0.map(\.result) } == [[.deduplicated], [.deduplicated]])
        #expect(try await Self.counts(f) == ["x": [2], "racer": [2]], "the call's update of x was rolled back")
        let skipped = try await f.app.database.withTenant(f.tenant.slug) { connection -> Int in
            for try await value in try await connection.query("SELECT last_value FROM race_once", logger: TestDatabase.logger).decode(Int.self) {
                return value
            }
            return 0
        }
        #expect(skipped == 2, "the re-fire call met the race, then the transaction updated racer")
        #expect(warnings.messages.isEmpty, "a lost race is expected, not a warning: \(warnings.messages)")
    }
}

/// The ingestor's waits end on an event-loop timer: a request held back for the senders of the last batch to come
/// back (the linger) is stored when the timer fires, not only when more requests arrive.
@Suite struct AlertIngestorTimerTests {
    // The limit catches a timer that never fires; it is generous because the whole suite shares two cores.
    @Test(.timeLimit(.minutes(5))) func heldRequestsAreStoredWhenTheirWaitEnds() async throws {
        let f = try await NightOwlFixture.make()
        let ingestor = AlertIngestor(database: f.app.database, metrics: AlertMetrics(metrics: HTTPMetrics(prefix: "test")),
                                     logger: TestDatabase.logger, timers: MultiThreadedEventLoopGroup.singleton.next(),
                                     policy: GroupCommitPolicy(maxWait: .milliseconds(300), linger: .milliseconds(300)))
        let tenant = f.tenant.slug
        let together = try await withThrowingTaskGroup(of: EventResult.self) { group in
            for name in ["a", "b", "c"] {
                group.addTask { try await ingestor.submit(tenant: tenant, events: [AlertBatchTests.event(name)])[0] }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(together.map(\.result) == [.created, .created, .created])
        // Several requests were answered last, so a lone one now waits for the others to come back, up to the linger.
        let clock = ContinuousClock()
        let start = clock.now
        let alone = try await ingestor.submit(tenant: tenant, events: [AlertBatchTests.event("a")])
        #expect(alone.map(\.result) == [.deduplicated])
        #expect(clock.now - start >= .milliseconds(100), "held by the linger, then started by the timer")
        #expect(try await AlertBatchTests.counts(f) == ["a": [2], "b": [1], "c": [1]])
    }
}

/// The re-fire call runs on its connection's event loop through this executor.
@Suite struct EventLoopTaskExecutorTests {
    @Test func jobsRunOnTheEventLoopAcrossSuspensions() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let seen = try await withTaskExecutorPreference(EventLoopTaskExecutor(loop)) { () async throws -> [Bool] in
            var seen = [loop.inEventLoop]
            try await Task.sleep(for: .milliseconds(5))
            seen.append(loop.inEventLoop)
            _ = try await loop.submit { 1 }.get()
            seen.append(loop.inEventLoop)
            return seen
        }
        #expect(seen == [true, true, true])
        #expect(!loop.inEventLoop, "back on the global executor afterwards")
    }
}

/// The re-fire statement is one text for every tenant and stays prepared on the connection; the function behind it
/// sets the tenant's search_path for the call. On one connection, tenants taking turns must each count only their own
/// alerts (PL/pgSQL plans made for one tenant's tables must not serve another's).
@Suite struct AlertRefireTenancyTests {
    @Test func tenantsTakingTurnsOnOneConnectionCountTheirOwnAlerts() async throws {
        let f = try await NightOwlFixture.make()
        let (other, _) = try await TestDatabase.makeTenant(f.app.database, definition: NightOwlService.definition)
        let otherFixture = NightOwlFixture(app: f.app, tenant: other, key: "")
        for fixture in [f, otherFixture] { _ = try await AlertBatchTests.runBatch(fixture, [[AlertBatchTests.event("shared")]]) }
        let store = AlertStore(logger: TestDatabase.logger)
        let ids = try await f.app.database.withConnection { connection -> [[String: UUID]] in
            var ids: [[String: UUID]] = []
            for tenant in [f.tenant.slug, other.slug, f.tenant.slug, f.tenant.slug, other.slug] {
                ids.append(try await store.refire([AlertBatchTests.event("shared")], tenant: tenant, on: connection))
            }
            return ids
        }
        #expect(ids.allSatisfy { $0.count == 1 })
        #expect(ids[0] == ids[2] && ids[1] == ids[4] && ids[0] != ids[1], "each tenant's call answers with its own alert")
        #expect(try await AlertBatchTests.counts(f) == ["shared": [4]])
        #expect(try await AlertBatchTests.counts(otherFixture) == ["shared": [3]])
    }

    @Test func theFunctionRefusesASchemaThatIsNoTenants() async throws {
        let f = try await NightOwlFixture.make()
        let code = try await f.app.database.withConnection { connection -> String? in
            do {
                let rows = try await connection.query("""
                    SELECT * FROM public.alerts_refire('public', ARRAY['x'], ARRAY[1::bigint], ARRAY[now()], ARRAY['info'],
                        ARRAY['t'], ARRAY[''], ARRAY['{}'], ARRAY['{}'], ARRAY[''])
                    """, logger: TestDatabase.logger)
                for try await _ in rows {}
                return nil
            } catch {
                return PostgresErrorCode.code(of: error)
            }
        }
        #expect(code == "3F000", "invalid_schema_name")
    }
}

/// Warnings a test wants to see (or not see).
final class RecordedWarnings: Sendable {
    private let box = NIOLockedValueBox<[String]>([])
    var messages: [String] { box.withLockedValue { $0 } }
    func append(_ message: String) { box.withLockedValue { $0.append(message) } }
}

struct RecordingLogHandler: LogHandler {
    let warnings: RecordedWarnings
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .warning
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        if level >= .warning { warnings.append("\(message) \(metadata ?? [:])") }
    }
}
