import Foundation
import NIOConcurrencyHelpers
import OwlCore
import OwlTestSupport
import PostgresNIO
import Testing

@Suite struct JobScheduleTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    static let job = TenantJob("j", every: .seconds(60), wakeOn: ["wake"]) { _, _ in nil }

    /// (seconds since the last run or nil, seconds after the last run that a tenant asked for or nil, channels notified, due)
    static let cases: [(Double?, Double?, Set<String>, Bool)] = [
        (nil, nil, [], true),                                        // never ran
        (10, nil, [], false),                                        // within the interval
        (60, nil, [], true),                                         // the interval has passed
        (10, nil, ["wake"], true),                                   // its channel was notified
        (10, nil, ["other"], false),                                 // another job's channel
        (10, 5, [], true),                                           // a tenant asked for an earlier run, now due
        (10, 30, [], false),                                         // asked for later
    ]

    @Test(arguments: cases)
    func dueWhen(sinceLast: Double?, requested: Double?, woken: Set<String>, due: Bool) {
        let now = Self.start.addingTimeInterval(100)
        let schedule = JobSchedule(lastRun: sinceLast.map { now.addingTimeInterval(-$0) },
                                   requested: requested.map { now.addingTimeInterval(-10 + $0) })
        #expect(schedule.isDue(Self.job, at: now, woken: woken) == due)
    }
}

@Suite struct TenantWorkerTests {
    /// Calls of a job: which tenant, at which instant.
    final class Calls: Sendable {
        let value = NIOLockedValueBox<[(String, Date)]>([])
        func add(_ tenant: Tenant, _ now: Date) { value.withLockedValue { $0.append((tenant.slug.value, now)) } }
        var count: Int { value.withLockedValue { $0.count } }
        var tenants: [String] { value.withLockedValue { $0.map(\.0) } }
    }

    @Test func runsEachJobWhenDueForEveryTenantAndCountsOutcomes() async throws {
        let (database, tenants) = try await TestWorker.isolatedTenants(count: 2)
        let clock = DrivenClock(Date(timeIntervalSince1970: 1_800_000_000))
        let metrics = HTTPMetrics(prefix: "owltest")
        let environment = try TestWorker.environment(database, clock: clock.wallClock, metrics: metrics)
        let steady = Calls(), flaky = Calls()
        let failing = tenants[0].slug.value
        let worker = TenantWorker(jobs: [
            TenantJob("steady", every: .seconds(60), wakeOn: ["owltest_wake"]) { tenant, now in
                steady.add(tenant, now)
                return now.addingTimeInterval(20)   // asks to run again in 20 s
            },
            .periodic("flaky", every: .seconds(30)) { tenant, now in
                flaky.add(tenant, now)
                if tenant.slug.value == failing { throw TestDatabase.SetupError("boom") }
            },
        ], environment: environment)

        #expect(await worker.pass() == ["steady", "flaky"])
        #expect(Set(steady.tenants) == Set(tenants.map(\.slug.value)) && steady.count == 2)
        #expect(flaky.count == 2, "one tenant's failure does not stop the others")
        clock.advance(by: 10)
        #expect(await worker.pass() == [])
        worker.wake("owltest_wake")
        #expect(await worker.pass() == ["steady"])
        clock.advance(by: 25)       // 35 s: flaky's interval; steady asked for 10 + 20 = 30 s
        #expect(await worker.pass() == ["steady", "flaky"])
        clock.advance(by: 1)
        #expect(await worker.pass() == [])

        let text = metrics.render()
        #expect(text.contains(#"owltest_job_runs_total{job="steady",outcome="success"} 3"#), "\(text)")
        #expect(text.contains(#"owltest_job_runs_total{job="flaky",outcome="failure"} 2"#))
        #expect(text.contains(#"owltest_job_runs_total{job="flaky",outcome="success"} 0"#))
        #expect(text.contains(#"owltest_job_last_success_timestamp_seconds{job="steady"} 1800000035"#))
        #expect(environment.heartbeat.age(at: clock.now) == 0)
    }

    @Test func aNotifyWakesTheRunningLoop() async throws {
        let (database, _) = try await TestWorker.isolatedTenants(count: 1)
        let calls = Calls()
        let worker = TenantWorker(jobs: [
            .periodic("woken", every: .seconds(3600), wakeOn: ["owltest_wake"]) { tenant, now in calls.add(tenant, now) },
        ], environment: try TestWorker.environment(database, clock: .system), resolution: .milliseconds(50))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker.run() }
            try await eventually { calls.count == 1 }
            // The listener may still be connecting: notify until the job runs again.
            try await eventually {
                try await database.withConnection { try await $0.query("NOTIFY owltest_wake", logger: TestDatabase.logger) }
                return calls.count >= 2
            }
            group.cancelAll()
        }
    }

    func eventually(_ condition: () async throws -> Bool) async throws {
        for _ in 0..<100 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("condition not met within 5 s")
    }
}

@Suite struct TransactionRetryTests {
    /// Two transactions that lock two rows in opposite orders: PostgreSQL aborts one with a deadlock (40P01), and
    /// `transaction` runs it again, so both commit.
    @Test func aDeadlockedTransactionIsRunAgain() async throws {
        let database = try await TestDatabase.database()
        let table = "deadlock_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        try await database.withConnection { connection in
            try await connection.query("CREATE TABLE public.\(unescaped: table) (id int PRIMARY KEY, n int NOT NULL)", logger: TestDatabase.logger)
            try await connection.query("INSERT INTO public.\(unescaped: table) VALUES (1, 0), (2, 0)", logger: TestDatabase.logger)
        }
        let attempts = NIOLockedValueBox(0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (first, second) in [(1, 2), (2, 1)] {
                group.addTask {
                    try await database.transaction { connection in
                        attempts.withLockedValue { $0 += 1 }
                        try await connection.query("SET LOCAL deadlock_timeout = '100ms'", logger: TestDatabase.logger)
                        try await connection.query("UPDATE public.\(unescaped: table) SET n = n + 1 WHERE id = \(first)", logger: TestDatabase.logger)
                        try await connection.query("SELECT pg_sleep(0.3)", logger: TestDatabase.logger)
                        try await connection.query("UPDATE public.\(unescaped: table) SET n = n + 1 WHERE id = \(second)", logger: TestDatabase.logger)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(attempts.withLockedValue { $0 } == 3, "one of the two was aborted once and run again")
        let total = try await database.withConnection { connection -> Int in
            for try await n in try await connection.query("SELECT sum(n)::int FROM public.\(unescaped: table)", logger: TestDatabase.logger).decode(Int.self) { return n }
            return 0
        }
        #expect(total == 4)
        try await database.withConnection { try await $0.query("DROP TABLE public.\(unescaped: table)", logger: TestDatabase.logger) }
    }

    @Test func otherErrorsAreNotRetried() async throws {
        let database = try await TestDatabase.database()
        let attempts = NIOLockedValueBox(0)
        await #expect(throws: (any Error).self) {
            try await database.transaction { connection in
                attempts.withLockedValue { $0 += 1 }
                try await connection.query("SELECT 1/0", logger: TestDatabase.logger)
            }
        }
        #expect(attempts.withLockedValue { $0 } == 1)
    }
}
