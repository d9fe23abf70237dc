import Foundation
import Logging
import OwlCore
import PostgresNIO

/// What happened to one event of a request.
struct EventResult: Sendable {
    var result: AlertOutcome.Result
    var alertID: UUID?
}

/// Stores webhook events with group commit: the events of requests that arrive together are written in one
/// transaction (one multi-row upsert), and each request is answered only after that transaction committed.
/// Up to `maxConcurrentBatches` transactions run at once; a failed batch is retried request by request, so that one
/// bad request cannot sink the others.
actor AlertIngestor {
    struct Job: Sendable {
        let tenant: TenantSlug
        let events: [AlertEvent]
        let continuation: CheckedContinuation<[EventResult], any Error>
    }

    let database: Database
    let metrics: AlertMetrics
    let logger: Logger
    let maxConcurrentBatches: Int
    let gatherDelay: Duration
    private var pending: [Job] = []
    private var running = 0

    init(database: Database, metrics: AlertMetrics, logger: Logger, maxConcurrentBatches: Int = 2, gatherDelay: Duration = .microseconds(1000)) {
        self.database = database
        self.metrics = metrics
        self.logger = logger
        self.maxConcurrentBatches = maxConcurrentBatches
        self.gatherDelay = gatherDelay
    }

    /// Stores the events of one request and returns their results, in order, once they are committed.
    func submit(tenant: TenantSlug, events: [AlertEvent]) async throws -> [EventResult] {
        guard !events.isEmpty else { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            pending.append(Job(tenant: tenant, events: events, continuation: continuation))
            if running < maxConcurrentBatches {
                running += 1
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        // A short wait lets concurrent requests join the batch; under load the batch fills while the previous commits.
        try? await Task.sleep(for: gatherDelay)
        while !pending.isEmpty {
            let batch = pending
            pending.removeAll()
            await AlertBatch(database: database, metrics: metrics, logger: logger).process(batch)
        }
        running -= 1
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
            do {
                let results = try await apply(group.map(\.events), tenant: tenant)
                for (job, result) in zip(group, results) { job.continuation.resume(returning: result) }
            } catch where group.count > 1 {
                logger.warning("alert batch failed; retrying its requests one by one", metadata: ["error": .string(String(reflecting: error))])
                for job in group {
                    do { job.continuation.resume(returning: try await apply([job.events], tenant: tenant)[0]) } catch {
                        job.continuation.resume(throwing: error)
                    }
                }
            } catch {
                group[0].continuation.resume(throwing: error)
            }
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

/// NightOwl's alert metrics.
struct AlertMetrics: Sendable {
    let metrics: HTTPMetrics
    var deduplicated: Counter { metrics.counter("alerts_deduplicated_total") }
    var agentResolved: Counter { metrics.counter("alerts_agent_resolved_total") }
    var kbHits: Counter { metrics.counter("kb_hits_total") }

    func received(source: AlertSource, severity: Severity) {
        metrics.counter("alerts_received_total", labels: [("source", source.rawValue), ("severity", severity.rawValue)]).increment()
    }

    func processing(source: AlertSource, duration: Duration) {
        metrics.histogram("alert_processing_duration_seconds", labels: [("source", source.rawValue)]).record(duration)
    }
}

import Prometheus
