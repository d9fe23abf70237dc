import Foundation
import Logging
import OwlCore
import PostgresNIO

/// Messages claimed together for one recipient and method: one delivery.
struct OutboundBundle: Sendable {
    var ids: [UUID]
    var alertIDs: [UUID]
    var method: NotificationMethod
    var mode: ProviderMode
    var recipient: String
    var payloads: [JSONValue]
}

/// Sends bundles in live mode; tests give their own or point the live one at local servers.
protocol NotificationSender: Sendable {
    func send(_ bundle: OutboundBundle, tenant: Tenant) async -> DeliveryOutcome
}

/// NightOwl's notifications on the shared outbox (its `notification` handler): the outbox claims due messages with
/// `FOR UPDATE SKIP LOCKED` and a lease, and records every attempt; the rules are NightOwl's. A message whose alert was
/// acknowledged or resolved is cancelled. Calls and SMS to one number are limited to one per `personalInterval`: what
/// arrives meanwhile waits and goes out as one bundled message; Slack and webhooks are bundled the same way within
/// `channelInterval`. Failures are retried with exponential backoff on 5xx, 429 and network errors, never on 4xx; when
/// every message of an escalation step has failed for good, the alert's next tier is made due at once.
public struct NotificationDispatcher: OutboxHandler {
    let database: Database
    let logger: Logger
    let sender: any NotificationSender
    let now: @Sendable () -> Date
    var metrics = WorkerMetrics.unserved()

    static let personalInterval: TimeInterval = 60
    static let channelInterval: TimeInterval = 5
    /// 10 s, 20 s, 40 s, … capped at 10 minutes, up to a fifth of each taken off at random; five attempts.
    static let retries = RetryPolicy(base: 10, cap: 600, maxAttempts: 5, jitter: 0.2)
    /// A number in 0..<1 for the jitter of each retry's delay.
    public var random: @Sendable () -> Double = { Double.random(in: 0..<1) }

    public var name: String { "notification" }
    public var policy: RetryPolicy { Self.retries }
    public var lease: TimeInterval { 120 }
    /// A Slack message with its follow-ups, or a Twilio call, within the sender's timeout.
    public var deliveryTimeout: TimeInterval { 60 }
    public var claimLimit: Int { 50 }

    init(database: Database, logger: Logger, sender: any NotificationSender, now: @escaping @Sendable () -> Date) {
        self.database = database
        self.logger = logger
        self.sender = sender
        self.now = now
    }

    /// Backoff before attempt `attempt + 1` before jitter: 10 s, 20 s, 40 s, … capped at 10 minutes, or what the
    /// provider asked for.
    static func backoff(afterAttempt attempt: Int, retryAfter: TimeInterval?) -> TimeInterval {
        retries.backoff(afterAttempt: attempt, retryAfter: retryAfter)
    }

    static func interval(for method: NotificationMethod) -> TimeInterval {
        method == .sms || method == .phone ? personalInterval : channelInterval
    }

    /// Delivers the tenant's due notifications; returns how many deliveries it attempted.
    public func drain(_ tenant: Tenant) async throws -> Int {
        try await OutboxRunner(database: database, handler: self, logger: logger, now: now).drain(tenant)
    }

    /// One tenant's messages due for more than `grace` and still not sent (pending, or leased by a worker whose lease
    /// ran out), and when the oldest fell due: a stuck or starved worker shows here before anyone misses a page. Rows a
    /// rate limit holds back are not due yet, so they do not count.
    func overdue(_ tenant: Tenant, grace: TimeInterval = 60, at instant: Date) async throws -> (count: Int, firstDue: Date?) {
        try await database.withTenant(tenant.slug, actor: "notification-dispatcher") { connection -> (Int, Date?) in
            var result: (Int, Date?) = (0, nil)
            for try await row in try await connection.query("""
                SELECT count(*)::integer, min(next_attempt_at) FROM notification_outbox
                WHERE status IN ('pending', 'sending') AND next_attempt_at < \(instant.addingTimeInterval(-grace))
                  AND (status = 'pending' OR lease_until < \(instant))
                """, logger: logger).decode((Int, Date?).self) { result = row }
            return result
        }
    }

    /// Cancels due messages whose alert no longer needs them, holds back those a rate limit covers, and bundles the
    /// rest per recipient and method.
    public func plan(_ due: [OutboxItem], at instant: Date, on connection: PostgresConnection) async throws -> OutboxPlan {
        var firing: Set<UUID> = []
        var existing: Set<UUID> = []
        let alerts = due.compactMap(\.subjectID)
        if !alerts.isEmpty {
            for try await (id, isFiring) in try await connection.query("SELECT id, status = 'firing' FROM alerts WHERE id = ANY(\(alerts))",
                                                                       logger: logger).decode((UUID, Bool).self) {
                existing.insert(id)
                if isFiring { firing.insert(id) }
            }
        }
        var plan = OutboxPlan()
        var groups: [String: [OutboxItem]] = [:]
        var order: [String] = []
        for item in due {
            guard let method = item.channel.flatMap(NotificationMethod.init(rawValue:)), let recipient = item.recipient else {
                plan.cancelled.append((item.id, "unknown notification method \(item.channel ?? "")"))
                continue
            }
            if let alert = item.subjectID, !existing.contains(alert) {
                plan.cancelled.append((item.id, "the alert no longer exists"))
                continue
            }
            let payload = item.payload ?? .null
            // A follow-up or a thread note says that the alert was acknowledged or resolved (among other things), so
            // it goes out whatever the alert's state.
            let followUp = OutboundPayload.isSlackFollowUp(payload)
            let threadNote = OutboundPayload.isSlackThreadNote(payload)
            if let alert = item.subjectID, !firing.contains(alert), !followUp, !threadNote {
                plan.cancelled.append((item.id, "the alert was acknowledged or resolved"))
                continue
            }
            // Edits of one message fold into the latest; each thread note is a message of its own, sent alone, so that a
            // retry never posts another note twice.
            let key = "\(method.rawValue)|\(recipient)" + (followUp ? "|follow-up" : threadNote ? "|thread|\(item.id)" : "")
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(item)
        }
        for key in order {
            guard let items = groups[key], let bundle = Self.bundle(OutboxBatch(items: items)) else { continue }
            // The limits keep new messages from flooding a person or a channel; an edit of one already there notifies
            // nobody, and a thread note only those who follow the thread, so neither is held back by them.
            let limit = bundle.payloads.contains(where: OutboundPayload.followsSentMessage) ? 0 : Self.interval(for: bundle.method)
            var last: Date?
            if limit > 0 {
                for try await at in try await connection.query("""
                    SELECT max(sent_at) FROM notification_outbox
                    WHERE method = \(bundle.method.rawValue) AND recipient = \(bundle.recipient) AND status IN ('sent', 'sandboxed')
                      AND NOT (payload ? 'slack_update' OR payload ? 'slack_thread')
                    """, logger: logger).decode(Date?.self) { last = at }
            }
            if let last, instant.timeIntervalSince(last) < limit {
                plan.held.append((bundle.ids, last.addingTimeInterval(limit)))
            } else {
                plan.batches.append(OutboxBatch(items: items))
            }
        }
        return plan
    }

    /// The batch as one message to its recipient.
    static func bundle(_ batch: OutboxBatch) -> OutboundBundle? {
        guard let first = batch.items.first, let method = first.channel.flatMap(NotificationMethod.init(rawValue:)), let recipient = first.recipient
        else { return nil }
        return OutboundBundle(ids: batch.ids, alertIDs: batch.items.compactMap(\.subjectID), method: method, mode: first.mode,
                              recipient: recipient, payloads: batch.items.map { $0.payload ?? .null })
    }

    public func deliver(_ batch: OutboxBatch, tenant: Tenant) async -> OutboxDelivery {
        guard let bundle = Self.bundle(batch) else { return OutboxDelivery(.permanent("not a notification")) }
        return OutboxDelivery(await sender.send(bundle, tenant: tenant))
    }

    /// Keeps the outcome on the escalation events; a channel message's place with its alert, and its follow-up when
    /// the alert changed while it was on its way; and a failure for good makes the next tier due.
    public func settled(_ batch: OutboxBatch, as status: OutboxStatus, outcome: DeliveryOutcome, at instant: Date,
                        on connection: PostgresConnection) async throws {
        guard let bundle = Self.bundle(batch) else { return }
        switch (status, outcome) {
        case (.sent, .delivered(let reference)), (.sandboxed, .delivered(let reference)):
            try await connection.query("""
                UPDATE escalation_events SET outcome = \(status.rawValue), error = NULL WHERE notification_id = ANY(\(bundle.ids))
                """, logger: logger)
            guard bundle.method.provider == "slack", bundle.alertIDs.count == 1, !bundle.payloads.contains(where: OutboundPayload.followsSentMessage)
            else { return }
            // A channel message is kept with its alert (`channel:ts`).
            if bundle.method == .slackChannel, let reference, let colon = reference.firstIndex(of: ":") {
                try await connection.query("""
                    UPDATE alerts SET slack_channel = \(String(reference[..<colon])), slack_ts = \(String(reference[reference.index(after: colon)...]))
                    WHERE id = \(bundle.alertIDs[0])
                    """, logger: logger)
            }
            // Acknowledged or resolved while this message was on its way: it is followed up at once (migration 0015
            // does it for messages already out when the alert changes).
            try await connection.query("SELECT slack_follow_up(\(bundle.alertIDs[0]), \(bundle.ids))", logger: logger)
        case (.pending, .retryable(let error, _)):
            try await connection.query("""
                UPDATE escalation_events SET outcome = 'retrying', error = \(error) WHERE notification_id = ANY(\(bundle.ids))
                """, logger: logger)
        case (.failed, _):
            try await failed(bundle, at: instant, on: connection)
        default:
            return
        }
    }

    public func recorded(_ batch: OutboxBatch, as status: OutboxStatus, tenant: Tenant) {
        guard let bundle = Self.bundle(batch) else { return }
        metrics.settled(bundle, as: status == .pending ? "retrying" : status.rawValue)
    }

    /// A failure for good, as the outbox recorded it. When no message of the alert's step can still arrive, its next
    /// tier is due now.
    func failed(_ bundle: OutboundBundle, at instant: Date, on connection: PostgresConnection) async throws {
        try await connection.query("""
            UPDATE escalation_events e SET outcome = 'failed', error = o.last_error
            FROM notification_outbox o WHERE o.id = e.notification_id AND e.notification_id = ANY(\(bundle.ids))
            """, logger: logger)
        try await connection.query("""
            UPDATE escalation_state e SET next_at = \(instant)
            FROM (SELECT DISTINCT alert_id, step FROM notification_outbox WHERE id = ANY(\(bundle.ids)) AND alert_id IS NOT NULL) f
            WHERE e.alert_id = f.alert_id AND e.finished_at IS NULL AND e.next_step = f.step + 1 AND e.next_at > \(instant)
              AND NOT EXISTS (SELECT 1 FROM notification_outbox o WHERE o.alert_id = f.alert_id AND o.step = f.step
                              AND o.status IN ('pending', 'sending', 'sent', 'sandboxed'))
            """, logger: logger)
    }
}
