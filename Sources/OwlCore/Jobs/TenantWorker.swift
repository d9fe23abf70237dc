import Foundation
import Logging
import NIOConcurrencyHelpers
import Prometheus
import ServiceLifecycle

/// `--mode worker` of a service: runs its jobs for every tenant, each when it is due (`JobSchedule`), in the order they
/// are declared, and wakes at once on the jobs' `NOTIFY` channels through one listening connection. One tenant's
/// failure is logged with its slug and does not stop the others. Each pass beats the worker's heartbeat, which turns
/// `/healthz` to 503 when the loop hangs.
///
/// Metrics: `<service>_job_runs_total{job,outcome}` (outcome `success` or `failure`, one per pass over the tenants)
/// and `<service>_job_last_success_timestamp_seconds{job}`.
public final class TenantWorker: Service, Sendable {
    public let jobs: [TenantJob]
    let database: Database
    let clock: WallClock
    let logger: Logger
    let heartbeat: WorkerHeartbeat
    let metrics: JobMetrics
    /// How often the loop looks at its jobs.
    let resolution: Duration
    private let state: NIOLockedValueBox<(schedules: [String: JobSchedule], woken: Set<String>)>

    public init(jobs: [TenantJob], environment: WorkerEnvironment, resolution: Duration = .seconds(1)) {
        precondition(Set(jobs.map(\.name)).count == jobs.count, "job names must be unique")
        self.jobs = jobs
        database = environment.database
        clock = environment.clock
        logger = environment.logger
        heartbeat = environment.heartbeat
        metrics = JobMetrics(environment.metrics, jobs: jobs.map(\.name))
        self.resolution = resolution
        state = NIOLockedValueBox(([:], []))
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await withThrowingTaskGroup(of: Void.self) { group in
                let channels = Set(self.jobs.flatMap(\.wakeChannels))
                if !channels.isEmpty { group.addTask { await self.listen(channels) } }
                group.addTask {
                    while !Task.isCancelled {
                        await self.pass()
                        try? await Task.sleep(for: self.resolution)
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    /// One pass: every due job for every tenant, at the clock's current instant. Tests call it directly.
    @discardableResult
    public func pass() async -> [String] {
        let now = clock.now
        let woken = state.withLockedValue { value in
            defer { value.woken = [] }
            return value.woken
        }
        let due = jobs.filter { job in state.withLockedValue { $0.schedules[job.name, default: JobSchedule()] }.isDue(job, at: now, woken: woken) }
        guard !due.isEmpty else {
            heartbeat.beat(at: clock.now)
            return []
        }
        let tenants: [Tenant]
        do {
            tenants = try await TenantStore(database: database).list()
        } catch {
            logger.error("listing tenants failed", metadata: ["error": .string(String(reflecting: error))])
            for job in due { metrics.ran(job.name, success: false, at: now) }
            heartbeat.beat(at: clock.now)
            return []
        }
        for job in due { await run(job, tenants: tenants, at: now) }
        heartbeat.beat(at: clock.now)
        return due.map(\.name)
    }

    private func run(_ job: TenantJob, tenants: [Tenant], at now: Date) async {
        var failed = false
        var requested: Date?
        for tenant in tenants {
            do {
                if let next = try await job.run(tenant, now) { requested = min(requested ?? next, next) }
            } catch {
                failed = true
                logger.error("job failed", metadata: ["job": .string(job.name), "tenant": .string(tenant.slug.value),
                                                      "error": .string(String(reflecting: error))])
            }
        }
        state.withLockedValue { $0.schedules[job.name] = JobSchedule(lastRun: now, requested: requested) }
        metrics.ran(job.name, success: !failed, at: now)
    }

    /// Marks a channel as notified; the next pass runs the jobs that wake on it.
    public func wake(_ channel: String) { state.withLockedValue { _ = $0.woken.insert(channel) } }

    /// Holds one connection listening on every channel; reconnects after errors.
    private func listen(_ channels: Set<String>) async {
        while !Task.isCancelled {
            do {
                try await database.client.withConnection { connection in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for channel in channels {
                            group.addTask {
                                try await connection.listen(on: channel) { notifications in
                                    for try await _ in notifications { self.wake(channel) }
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("job channel listener stopped; reconnecting", metadata: ["error": .string("\(error)")])
                try? await Task.sleep(for: .seconds(2))
            }
        }
    }
}

/// The job series of a worker, made at start so that alerting rules have data (zeros) before the first run.
struct JobMetrics: Sendable {
    private let runs: [String: (success: Counter, failure: Counter)]
    private let lastSuccess: [String: Gauge]

    init(_ metrics: HTTPMetrics, jobs: [String]) {
        var runs: [String: (Counter, Counter)] = [:]
        var lastSuccess: [String: Gauge] = [:]
        for job in jobs {
            runs[job] = (metrics.counter("job_runs_total", labels: [("job", job), ("outcome", "success")]),
                         metrics.counter("job_runs_total", labels: [("job", job), ("outcome", "failure")]))
            lastSuccess[job] = metrics.gauge("job_last_success_timestamp_seconds", labels: [("job", job)])
        }
        self.runs = runs
        self.lastSuccess = lastSuccess
    }

    func ran(_ job: String, success: Bool, at instant: Date) {
        if success {
            runs[job]?.success.increment()
            lastSuccess[job]?.set(instant.timeIntervalSince1970)
        } else {
            runs[job]?.failure.increment()
        }
    }
}
