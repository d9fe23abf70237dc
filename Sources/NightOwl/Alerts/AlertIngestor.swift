import Foundation
import Logging
import NIOCore
import OwlCore
import PostgresNIO
import Prometheus

/// What happened to one event of a request.
struct EventResult: Sendable {
    var result: AlertOutcome.Result
    var alertID: UUID?
}

/// When to start a group commit. An idle ingestor starts at once when as many requests wait as were in flight when it
/// last answered (`cohort`: one for a lone sender, so it adds no wait), else it lingers up to `linger` after that answer
/// for the senders it answered to come back, so that concurrent senders keep sharing one commit instead of splitting
/// into two groups that take turns (each then paying a whole commit). Beside a running batch a second one starts only
/// when many requests wait or the oldest has waited `maxWait`, so that one slow batch (a new alert's enrichment, a busy
/// tenant) does not hold up the others. Measured with `owl bench ingest` (docs/benchmarks.md).
struct GroupCommitPolicy: Sendable {
    var maxConcurrent = 2
    var joinAt = 8
    var maxWait: Duration = .milliseconds(2)
    var linger: Duration = .microseconds(1500)

    enum Decision: Equatable {
        case start
        case wait(Duration)
        case none
    }

    /// `cohort`: requests in flight when the last batch answered; `sinceAnswer`: time since then (nil: never).
    func decide(running: Int, waiting: Int, oldestWaited: Duration, cohort: Int = 1, sinceAnswer: Duration? = nil) -> Decision {
        guard waiting > 0, running < maxConcurrent else { return .none }
        if running == 0 {
            guard waiting < cohort, let sinceAnswer, sinceAnswer < linger, oldestWaited < maxWait else { return .start }
            return .wait(min(linger - sinceAnswer, maxWait - oldestWaited))
        }
        if waiting >= joinAt || oldestWaited >= maxWait { return .start }
        return .wait(maxWait - oldestWaited)
    }
}

/// Stores webhook events with group commit: the events of requests that arrive together are written in one
/// transaction (or one call, see `AlertStore.refire`), and each request is answered only after that committed.
/// `GroupCommitPolicy` decides when a batch starts; a failed batch is retried request by request, so that one bad
/// request cannot sink the others.
actor AlertIngestor {
    struct Job: Sendable {
        let tenant: TenantSlug
        let events: [AlertEvent]
        let continuation: CheckedContinuation<[EventResult], any Error>
    }

    let database: Database
    let metrics: AlertMetrics
    let logger: Logger
    let policy: GroupCommitPolicy
    /// Where the waits' timers run. A timer on an event loop that is cancelled before it fires costs no wakeup; a
    /// sleeping task went through Dispatch's timer thread and woke for every batch, started or not.
    let timers: any EventLoop
    private var pending: [Job] = []
    private var oldestArrival: ContinuousClock.Instant?
    private var running = 0
    private var timer: (deadline: ContinuousClock.Instant, scheduled: Scheduled<Void>)?
    private var cohort = 1
    private var answeredAt: ContinuousClock.Instant?

    init(database: Database, metrics: AlertMetrics, logger: Logger, timers: any EventLoop,
         policy: GroupCommitPolicy = GroupCommitPolicy()) {
        self.database = database
        self.metrics = metrics
        self.logger = logger
        self.timers = timers
        self.policy = policy
    }

    /// Stores the events of one request and returns their results, in order, once they are committed.
    func submit(tenant: TenantSlug, events: [AlertEvent]) async throws -> [EventResult] {
        guard !events.isEmpty else { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            if pending.isEmpty { oldestArrival = .now }
            pending.append(Job(tenant: tenant, events: events, continuation: continuation))
            schedule()
        }
    }

    private func schedule() {
        let waited = oldestArrival.map { ContinuousClock.now - $0 } ?? .zero
        let sinceAnswer = answeredAt.map { ContinuousClock.now - $0 }
        switch policy.decide(running: running, waiting: pending.count, oldestWaited: waited, cohort: cohort, sinceAnswer: sinceAnswer) {
        case .start:
            // Nothing waits any more, so no timer is needed: cancelled, it never wakes anything.
            timer?.scheduled.cancel()
            timer = nil
            let batch = pending
            pending.removeAll()
            oldestArrival = nil
            running += 1
            Task { await self.run(batch) }
        case .wait(let delay):
            // One timer at a time, unless this wait ends sooner than the armed one.
            let deadline = ContinuousClock.now + delay
            if let armed = timer, armed.deadline <= deadline { return }
            timer?.scheduled.cancel()
            let scheduled = timers.scheduleTask(in: .nanoseconds(Int64(delay / .nanoseconds(1)))) {
                _ = Task { await self.timerFired(deadline) }
            }
            timer = (deadline, scheduled)
        case .none:
            break
        }
    }

    private func timerFired(_ deadline: ContinuousClock.Instant) {
        if timer?.deadline == deadline { timer = nil }
        schedule()
    }

    private func run(_ batch: [Job]) async {
        await AlertBatch(database: database, metrics: metrics, logger: logger).process(batch)
        answeredAt = .now
        cohort = batch.count + pending.count
        running -= 1
        schedule()
    }
}

/// One group commit: the jobs of each tenant in one transaction.
struct AlertBatch {
    let database: Database
    let metrics: AlertMetrics
    let logger: Logger
    var store: AlertStore { AlertStore(logger: logger) }

    func process(_ jobs: [AlertIngestor.Job]) async {
        for (tenant, group) in Dictionary(grouping: jobs, by: \.tenant) {
            let requests = group.map(\.events)
            var results: [[EventResult?]] = requests.map { Array(repeating: nil, count: $0.count) }
            if requests.allSatisfy({ $0.allSatisfy(Self.isPlainFire) }) {
                do {
                    if try await refire(group, tenant: tenant, into: &results) { continue }
                } catch where PostgresErrorCode.code(of: error) != nil {
                    // The statement failed in the database and so changed nothing: the transactional path takes all.
                    logger.warning("alert re-fire failed; storing the batch in one transaction",
                                   metadata: ["error": .string(String(reflecting: error))])
                } catch {
                    for job in group { job.continuation.resume(throwing: error) }
                    continue
                }
            }
            // What the one-call path did not count goes through the transaction, request by request if the batch fails.
            let leftover = results.indices.map { r in results[r].indices.filter { results[r][$0] == nil } }
            let pending = leftover.indices.filter { !leftover[$0].isEmpty }
            let outcomes = await applyWithFallback(pending.map { r in leftover[r].map { requests[r][$0] } }, tenant: tenant)
            for (r, outcome) in zip(pending, outcomes) {
                switch outcome {
                case .success(let stored): for (e, result) in zip(leftover[r], stored) { results[r][e] = result }
                case .failure: break
                }
            }
            var failures: [Int: any Error] = [:]
            for (r, outcome) in zip(pending, outcomes) { if case .failure(let error) = outcome { failures[r] = error } }
            for (r, job) in group.enumerated() {
                if let error = failures[r] { job.continuation.resume(throwing: error) } else { job.continuation.resume(returning: results[r].map { $0 ?? EventResult(result: .ignored) }) }
            }
        }
    }

    /// A fire event that the one-statement re-fire path may count (agents' auto-resolutions teach the knowledge base).
    static func isPlainFire(_ event: AlertEvent) -> Bool { event.action == .fire && event.agent?.autoResolved != true }

    /// Counts repeats of open alerts in one autocommit call (see `AlertStore.refire`) and fills their results. When that
    /// counted every event, answers the requests at once, before the connection goes back to the pool, and returns true.
    /// The call runs on the connection's event loop: the query is written and its reply taken up on that thread, not
    /// handed from Swift's global executor to the event loop and back, two thread wake-ups on the path of every batch.
    private func refire(_ group: [AlertIngestor.Job], tenant: TenantSlug, into results: inout [[EventResult?]]) async throws -> Bool {
        try await database.withConnection { connection in
            try await withTaskExecutorPreference(EventLoopTaskExecutor(connection.eventLoop)) {
                let counted = try await store.refire(group.flatMap(\.events), tenant: tenant, on: connection)
                guard !counted.isEmpty else { return false }
                for (r, job) in group.enumerated() {
                    for (e, event) in job.events.enumerated() {
                        guard let id = counted[event.fingerprint] else { continue }
                        results[r][e] = EventResult(result: .deduplicated, alertID: id)
                        metrics.received(source: event.source, severity: event.severity)
                        metrics.deduplicated.increment()
                    }
                }
                let answers = results.map { $0.compactMap { $0 } }
                guard zip(answers, results).allSatisfy({ $0.count == $1.count }) else { return false }
                for (job, answer) in zip(group, answers) { job.continuation.resume(returning: answer) }
                return true
            }
        }
    }

    /// The transactional path for several requests; when the batch fails, each request is tried on its own so that one
    /// bad request cannot sink the others.
    func applyWithFallback(_ requests: [[AlertEvent]], tenant: TenantSlug) async -> [Result<[EventResult], any Error>] {
        guard !requests.isEmpty else { return [] }
        do {
            return try await apply(requests, tenant: tenant).map { .success($0) }
        } catch where requests.count > 1 {
            logger.warning("alert batch failed; retrying its requests one by one", metadata: ["error": .string(String(reflecting: error))])
            var outcomes: [Result<[EventResult], any Error>] = []
            for events in requests {
                do { outcomes.append(.success(try await apply([events], tenant: tenant)[0])) } catch { outcomes.append(.failure(error)) }
            }
            return outcomes
        } catch {
            return [.failure(error)]
        }
    }

    /// Applies the events of several requests in arrival order, in one transaction. Returns results per request.
    func apply(_ requests: [[AlertEvent]], tenant: TenantSlug) async throws -> [[EventResult]] {
        enum Kind: Equatable { case fire, agentResolved, acknowledge, resolve }
        func kind(_ event: AlertEvent) -> Kind {
            switch event.action {
            case .fire: event.agent?.autoResolved == true ? .agentResolved : .fire
            case .acknowledge: .acknowledge
            case .resolve: .resolve
            }
        }
        // Flatten, remembering where each event came from, and cut into runs of the same kind.
        let flat = requests.enumerated().flatMap { r, events in events.enumerated().map { (r, $0, $1) } }
        var runs: [(Kind, [(Int, Int, AlertEvent)])] = []
        for item in flat {
            if let last = runs.last, last.0 == kind(item.2) { runs[runs.count - 1].1.append(item) } else { runs.append((kind(item.2), [item])) }
        }
        let outcome = try await database.withTenant(tenant) { connection -> [[EventResult]] in
            var results = requests.map { Array(repeating: EventResult(result: .ignored), count: $0.count) }
            var created: [UUID] = []
            var acknowledged: [UUID] = []
            var resolved: [UUID] = []
            for (runKind, items) in runs {
                let events = items.map(\.2)
                switch runKind {
                case .fire, .agentResolved:
                    let ids = try await store.fire(events, resolved: runKind == .agentResolved, on: connection)
                    var seen = Set<String>()
                    for (r, e, event) in items {
                        guard let (id, inserted) = ids[event.fingerprint] else { continue }
                        let first = seen.insert(event.fingerprint).inserted
                        results[r][e] = EventResult(result: inserted && first ? (runKind == .agentResolved ? .resolved : .created) : .deduplicated, alertID: id)
                        if inserted && first {
                            if runKind == .fire { created.append(id) }
                            if runKind == .agentResolved, let agent = event.agent {
                                try await store.learnFromAgent(alertID: id, event: event, agent: agent, on: connection)
                                resolved.append(id)
                            }
                        }
                    }
                case .acknowledge, .resolve:
                    let target: AlertStatus = runKind == .acknowledge ? .acknowledged : .resolved
                    let changed = try await store.transition(events, to: target, on: connection)
                    for (r, e, event) in items {
                        if let id = changed[event.fingerprint] {
                            results[r][e] = EventResult(result: runKind == .acknowledge ? .acknowledged : .resolved, alertID: id)
                        }
                    }
                    if runKind == .acknowledge { acknowledged += changed.values } else { resolved += changed.values }
                }
            }
            try await store.assignServices(created, on: connection)
            let enriched = try await store.enrich(created, on: connection)
            if enriched > 0 { metrics.kbHits.increment(by: Int64(enriched)) }
            try await store.notify(tenant: tenant, event: "created", ids: created, on: connection)
            try await store.notify(tenant: tenant, event: "acknowledged", ids: acknowledged, on: connection)
            try await store.notify(tenant: tenant, event: "resolved", ids: resolved, on: connection)
            return results
        }
        // Counted after the commit, so that a failed batch counts nothing.
        for (events, results) in zip(requests, outcome) {
            for (event, result) in zip(events, results) {
                if event.action == .fire { metrics.received(source: event.source, severity: event.severity) }
                if result.result == .deduplicated { metrics.deduplicated.increment() }
                if event.agent?.autoResolved == true, result.result == .resolved { metrics.agentResolved.increment() }
            }
        }
        return outcome
    }
}

/// NightOwl's alert metrics. Every series is made once, here: a registry lookup per alert (its name built, its labels
/// hashed, under the registry's lock) was a visible share of the ingestion path.
struct AlertMetrics: Sendable {
    let deduplicated: Counter
    let agentResolved: Counter
    let kbHits: Counter
    private let receivedBySource: [AlertSource: [Severity: Counter]]
    private let processingBySource: [AlertSource: DurationHistogram]

    init(metrics: HTTPMetrics) {
        deduplicated = metrics.counter("alerts_deduplicated_total")
        agentResolved = metrics.counter("alerts_agent_resolved_total")
        kbHits = metrics.counter("kb_hits_total")
        var received: [AlertSource: [Severity: Counter]] = [:]
        var processing: [AlertSource: DurationHistogram] = [:]
        for source in AlertSource.allCases {
            for severity in Severity.allCases {
                received[source, default: [:]][severity] = metrics.counter(
                    "alerts_received_total", labels: [("source", source.rawValue), ("severity", severity.rawValue)])
            }
            processing[source] = metrics.histogram("alert_processing_duration_seconds", labels: [("source", source.rawValue)])
        }
        receivedBySource = received
        processingBySource = processing
    }

    func received(source: AlertSource, severity: Severity) {
        receivedBySource[source]?[severity]?.increment()
    }

    func processing(source: AlertSource, duration: Duration) {
        processingBySource[source]?.record(duration)
    }
}
