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

/// Delivers the outbox. Rows are claimed with `FOR UPDATE SKIP LOCKED` and leased while they are sent, so two workers
/// never send the same row; a worker that dies mid-send leaves a lease that expires and the row is tried again.
/// Calls and SMS to one number are limited to one per `personalInterval`: what arrives meanwhile waits and goes out
/// as one bundled message; Slack and webhooks are bundled the same way within `channelInterval`. Failures are
/// retried with exponential backoff on 5xx, 429 and network errors, never on 4xx; when every message of an
/// escalation step has failed for good, the alert's next tier is made due at once.
public struct NotificationDispatcher: Sendable {
    let database: Database
    let logger: Logger
    let sender: any NotificationSender
    let now: @Sendable () -> Date
    var metrics = WorkerMetrics.unserved()

    static let personalInterval: TimeInterval = 60
    static let channelInterval: TimeInterval = 5
    /// 10 s, 20 s, 40 s, … capped at 10 minutes, up to a fifth of each taken off at random; five attempts.
    static let retries = RetryPolicy(base: 10, cap: 600, maxAttempts: 5, jitter: 0.2)
    static let lease: TimeInterval = 120
    /// A number in 0..<1 for the jitter of each retry's delay.
    var random: @Sendable () -> Double = { Double.random(in: 0..<1) }

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

    public func drain(_ tenant: Tenant) async throws -> Int {
        var total = 0
        while true {
            let bundles = try await database.withTenant(tenant.slug, actor: "notification-dispatcher") { try await claim(on: $0) }
            if bundles.isEmpty { return total }
            for bundle in bundles {
                let outcome = bundle.mode == .sandbox ? .delivered(reference: nil) : await sender.send(bundle, tenant: tenant)
                let recorded = try await database.withTenant(tenant.slug, actor: "notification-dispatcher") { try await settle(bundle, outcome, on: $0) }
                // Counted once the outcome is committed.
                metrics.settled(bundle, as: recorded)
                total += 1
            }
        }
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

    /// Claims due rows, cancelling those whose alert no longer needs them and holding back those a rate limit covers.
    func claim(on connection: PostgresConnection) async throws -> [OutboundBundle] {
        let instant = now()
        let rows = try await connection.query("""
            SELECT o.id, o.alert_id, o.method, o.mode, o.recipient, o.payload::text, a.status
            FROM notification_outbox o LEFT JOIN alerts a ON a.id = o.alert_id
            WHERE (o.status = 'pending' OR (o.status = 'sending' AND o.lease_until < \(instant))) AND o.next_attempt_at <= \(instant)
            ORDER BY o.next_attempt_at, o.created_at LIMIT 50
            FOR UPDATE OF o SKIP LOCKED
            """, logger: logger)
        var candidates: [(id: UUID, alert: UUID?, method: NotificationMethod, mode: ProviderMode, recipient: String, payload: JSONValue, status: String?)] = []
        for try await (id, alert, method, mode, recipient, payload, status) in rows.decode((UUID, UUID?, String, String, String, String, String?).self) {
            guard let method = NotificationMethod(rawValue: method) else { continue }
            candidates.append((id, alert, method, ProviderMode(rawValue: mode) ?? .sandbox, recipient, JSONValue.parse(payload) ?? .null, status))
        }
        var cancelled: [UUID] = []
        var groups: [String: OutboundBundle] = [:]
        var order: [String] = []
        for c in candidates {
            // A follow-up or a thread note says that the alert was acknowledged or resolved (among other things), so
            // it goes out whatever the alert's state.
            let followUp = OutboundPayload.isSlackFollowUp(c.payload)
            let threadNote = OutboundPayload.isSlackThreadNote(c.payload)
            if c.alert != nil, c.status != "firing", !followUp, !threadNote { cancelled.append(c.id); continue }
            // Edits of one message fold into the latest; each thread note is a message of its own, sent alone, so that a
            // retry never posts another note twice.
            let key = "\(c.method.rawValue)|\(c.recipient)" + (followUp ? "|follow-up" : threadNote ? "|thread|\(c.id)" : "")
            if groups[key] == nil {
                groups[key] = OutboundBundle(ids: [], alertIDs: [], method: c.method, mode: c.mode, recipient: c.recipient, payloads: [])
                order.append(key)
            }
            groups[key]!.ids.append(c.id)
            if let alert = c.alert { groups[key]!.alertIDs.append(alert) }
            groups[key]!.payloads.append(c.payload)
        }
        if !cancelled.isEmpty {
            try await connection.query("""
                UPDATE notification_outbox SET status = 'cancelled', last_error = 'the alert was acknowledged or resolved'
                WHERE id = ANY(\(cancelled))
                """, logger: logger)
        }
        var claimed: [OutboundBundle] = []
        for key in order {
            guard let bundle = groups[key] else { continue }
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
                try await connection.query("""
                    UPDATE notification_outbox SET next_attempt_at = \(last.addingTimeInterval(limit)), status = 'pending'
                    WHERE id = ANY(\(bundle.ids))
                    """, logger: logger)
                continue
            }
            try await connection.query("""
                UPDATE notification_outbox SET status = 'sending', lease_until = \(instant.addingTimeInterval(Self.lease)), attempts = attempts + 1
                WHERE id = ANY(\(bundle.ids))
                """, logger: logger)
            claimed.append(bundle)
        }
        return claimed
    }

    /// Records the outcome on the rows and their escalation events; returns it as recorded (`sent`, `sandboxed`,
    /// `retrying` or `failed`).
    func settle(_ bundle: OutboundBundle, _ outcome: DeliveryOutcome, on connection: PostgresConnection) async throws -> String {
        let instant = now()
        let (kind, detail): (String, String?) = switch outcome {
        case .delivered: (bundle.mode == .sandbox ? "sandboxed" : "delivered", nil)
        case .retryable(let error, _): ("retryable", error)
        case .permanent(let error): ("failed", error)
        }
        try await connection.query("""
            INSERT INTO notification_attempts (notification_id, outcome, error, attempted_at)
            SELECT id, \(kind), \(detail), \(instant) FROM unnest(\(bundle.ids)::uuid[]) AS t(id)
            """, logger: logger)
        switch outcome {
        case .delivered(let reference):
            let status = bundle.mode == .sandbox ? "sandboxed" : "sent"
            try await connection.query("""
                UPDATE notification_outbox SET status = \(status), sent_at = \(instant), lease_until = NULL, provider_reference = \(reference),
                    last_error = NULL
                WHERE id = ANY(\(bundle.ids))
                """, logger: logger)
            try await connection.query("""
                UPDATE escalation_events SET outcome = \(status), error = NULL WHERE notification_id = ANY(\(bundle.ids))
                """, logger: logger)
            if bundle.method.provider == "slack", bundle.alertIDs.count == 1, !bundle.payloads.contains(where: OutboundPayload.followsSentMessage) {
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
            }
            return status
        case .retryable(let error, let retryAfter):
            var attempts = 0
            for try await n in try await connection.query("SELECT max(attempts) FROM notification_outbox WHERE id = ANY(\(bundle.ids))",
                                                          logger: logger).decode(Int?.self) { attempts = n ?? 0 }
            if Self.retries.givesUp(afterAttempt: attempts) {
                try await fail(bundle, error: "\(error) (gave up after \(attempts) attempts)", at: instant, on: connection)
                return "failed"
            }
            try await connection.query("""
                UPDATE notification_outbox SET status = 'pending', lease_until = NULL, last_error = \(error),
                    next_attempt_at = \(instant.addingTimeInterval(Self.retries.delay(afterAttempt: attempts, retryAfter: retryAfter, unit: random())))
                WHERE id = ANY(\(bundle.ids))
                """, logger: logger)
            try await connection.query("""
                UPDATE escalation_events SET outcome = 'retrying', error = \(error) WHERE notification_id = ANY(\(bundle.ids))
                """, logger: logger)
            return "retrying"
        case .permanent(let error):
            try await fail(bundle, error: error, at: instant, on: connection)
            return "failed"
        }
    }

    /// A failure for good. When no message of the alert's step can still arrive, its next tier is due now.
    func fail(_ bundle: OutboundBundle, error: String, at instant: Date, on connection: PostgresConnection) async throws {
        try await connection.query("""
            UPDATE notification_outbox SET status = 'failed', lease_until = NULL, last_error = \(error) WHERE id = ANY(\(bundle.ids))
            """, logger: logger)
        try await connection.query("""
            UPDATE escalation_events SET outcome = 'failed', error = \(error) WHERE notification_id = ANY(\(bundle.ids))
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
