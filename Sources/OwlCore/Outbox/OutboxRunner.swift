import Foundation
import Logging

/// Delivers one handler's messages of a tenant: claims due messages with `FOR UPDATE SKIP LOCKED`, leases what the
/// handler's plan sends (two workers never send the same message; a worker that dies mid-send leaves a lease that runs
/// out, and the message goes again), has the handler deliver each batch, and records the attempt with the shared
/// retry rule: backoff with jitter on 5xx, 429 (its `Retry-After`) and network errors, never on other 4xx.
public struct OutboxRunner<Handler: OutboxHandler>: Sendable {
    let database: Database
    let handler: Handler
    let logger: Logger
    let now: @Sendable () -> Date
    /// How long one drain may go on before it leaves the rest to the next pass, so that a provider that times out does
    /// not hold up the worker's other jobs.
    var budget: TimeInterval
    var store: OutboxStore { OutboxStore(logger: logger) }

    public init(database: Database, handler: Handler, logger: Logger, budget: TimeInterval = 20, now: @escaping @Sendable () -> Date) {
        self.database = database
        self.handler = handler
        self.logger = logger
        self.budget = budget
        self.now = now
    }

    /// Delivers the tenant's due messages (within `budget`); returns how many deliveries it attempted.
    @discardableResult
    public func drain(_ tenant: Tenant) async throws -> Int {
        var total = 0
        let started = now()
        while now().timeIntervalSince(started) < budget {
            let claimedAt = now()
            let (found, batches) = try await database.withTenant(tenant.slug, actor: "outbox") { connection -> (Bool, [OutboxBatch]) in
                let due = try await store.due(handler: handler.name, at: claimedAt, limit: handler.claimLimit, on: connection)
                guard !due.isEmpty else { return (false, []) }
                let plan = try await handler.plan(due, at: claimedAt, on: connection)
                return (true, try await store.apply(plan, leaseUntil: claimedAt.addingTimeInterval(handler.lease), on: connection))
            }
            if !found { return total }
            for (index, batch) in batches.enumerated() {
                // A lease about to run out may soon be another worker's: give the rest back for the next claim.
                if now().timeIntervalSince(claimedAt) > handler.lease - handler.deliveryTimeout {
                    try await database.withTenant(tenant.slug, actor: "outbox") { try await store.release(Array(batches[index...]), on: $0) }
                    break
                }
                let result = await attempt(batch, tenant: tenant)
                let settled = try await database.withTenant(tenant.slug, actor: "outbox") { connection -> (OutboxStatus, OutboxBatch)? in
                    let instant = now()
                    let (status, ids) = try await store.settle(batch, result, at: instant, on: connection)
                    // Only what is still this worker's: the rest was taken over when its lease ran out.
                    let ours = OutboxBatch(items: batch.items.filter { ids.contains($0.id) })
                    guard !ours.items.isEmpty else { return nil }
                    try await handler.settled(ours, as: status, outcome: result.outcome, at: instant, on: connection)
                    return (status, ours)
                }
                guard let (status, ours) = settled else { continue }
                handler.recorded(ours, as: status, tenant: tenant)
                if status == .failed {
                    logger.warning("outbound message failed for good", metadata: [
                        "tenant": .string(tenant.slug.value), "handler": .string(handler.name), "provider": .string(ours.provider),
                        "ids": .string(ours.ids.map { $0.uuidString.lowercased() }.joined(separator: ",")),
                    ])
                }
                total += 1
            }
        }
        return total
    }

    func attempt(_ batch: OutboxBatch, tenant: Tenant) async -> AttemptResult {
        guard batch.mode == .live else { return AttemptResult(outcome: .delivered(reference: nil), statusCode: nil, durationMs: 0, retryIn: nil) }
        let started = now()
        let delivery = await handler.deliver(batch, tenant: tenant)
        let duration = Int(max(now().timeIntervalSince(started), 0) * 1000)
        var retryIn: TimeInterval?
        if case .retryable(_, let retryAfter) = delivery.outcome, !handler.policy.givesUp(afterAttempt: batch.attempts) {
            retryIn = handler.policy.delay(afterAttempt: batch.attempts, retryAfter: retryAfter, unit: handler.random())
        }
        return AttemptResult(outcome: delivery.outcome, statusCode: delivery.statusCode, durationMs: duration, retryIn: retryIn)
    }
}

/// What an attempt came to, with what the store records of it; `retryIn` is nil when a retryable failure gives up.
struct AttemptResult: Sendable {
    var outcome: DeliveryOutcome
    var statusCode: Int?
    var durationMs: Int
    var retryIn: TimeInterval?
}
