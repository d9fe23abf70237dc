import Foundation
import Logging
import PostgresNIO

/// The SQL of the shared outbox. Every statement runs on a tenant's connection (its `search_path`).
public struct OutboxStore: Sendable {
    /// Notified when a message is queued, so that the worker delivers it at once rather than at its next poll.
    public static let channel = "owl_outbox"
    let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    /// Queues `message` in the caller's transaction; nil when a message with its key was queued before.
    @discardableResult
    public func enqueue(_ message: OutboundMessage, mode: ProviderMode, at instant: Date, on connection: PostgresConnection) async throws -> UUID? {
        let headers = JSONValue.object(message.headers.mapValues { .string($0) }).jsonText()
        let auth = try message.auth.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        var id: UUID?
        for try await row in try await connection.query("""
            INSERT INTO outbox (idempotency_key, provider, mode, method, url, headers, body, auth, ordering_key, next_attempt_at, created_at)
            VALUES (\(message.key), \(message.provider), \(mode.rawValue), \(message.method.rawValue), \(message.url), \(headers)::jsonb,
                    \(message.body), \(auth)::jsonb, \(message.orderingKey), \(instant), \(instant))
            ON CONFLICT (idempotency_key) DO NOTHING RETURNING id
            """, logger: logger).decode(UUID.self) { id = row }
        if id != nil { try await connection.query("SELECT pg_notify(\(Self.channel), '')", logger: logger) }
        return id
    }

    /// Locks up to `limit` of `handler`'s due messages for this transaction: pending ones, and those whose sender's
    /// lease ran out (it died mid-send). A message waits while an earlier one of its ordering key is still on its way.
    func due(handler: String, at instant: Date, limit: Int, on connection: PostgresConnection) async throws -> [OutboxItem] {
        let rows = try await connection.query("""
            SELECT o.id, o.idempotency_key, o.provider, o.mode, o.attempts, o.subject_id, o.stage, o.channel, o.recipient, o.payload::text,
                   o.method, o.url, o.headers::text, o.body, o.auth::text, o.ordering_key
            FROM outbox o
            WHERE o.handler = \(handler) AND (o.status = 'pending' OR (o.status = 'sending' AND o.lease_until < \(instant)))
              AND o.next_attempt_at <= \(instant)
              AND (o.ordering_key IS NULL OR NOT EXISTS (
                  SELECT 1 FROM outbox p WHERE p.ordering_key = o.ordering_key AND p.seq < o.seq AND p.status IN ('pending', 'sending')))
            ORDER BY o.next_attempt_at, o.seq LIMIT \(limit)
            FOR UPDATE OF o SKIP LOCKED
            """, logger: logger)
        var items: [OutboxItem] = []
        for try await row in rows {
            let r = row.makeRandomAccess()
            let key = try r["idempotency_key"].decode(String.self)
            let provider = try r["provider"].decode(String.self)
            var request: OutboundMessage?
            if let url = try r["url"].decode(String?.self) {
                var fields: [String: String] = [:]
                for (name, value) in JSONValue.parse(try r["headers"].decode(String.self))?.objectValue ?? [:] {
                    if let text = value.stringValue { fields[name] = text }
                }
                request = OutboundMessage(provider: provider, key: key,
                                          method: OutboundMessage.Method(rawValue: try r["method"].decode(String?.self) ?? "") ?? .POST, url: url,
                                          headers: fields, body: try r["body"].decode(String.self),
                                          auth: try r["auth"].decode(String?.self).flatMap { try? JSONDecoder().decode(OutboxAuth.self, from: Data($0.utf8)) },
                                          orderingKey: try r["ordering_key"].decode(String?.self))
            }
            items.append(OutboxItem(id: try r["id"].decode(UUID.self), key: key, provider: provider,
                                    mode: ProviderMode(rawValue: try r["mode"].decode(String.self)) ?? .sandbox,
                                    attempts: try r["attempts"].decode(Int.self), subjectID: try r["subject_id"].decode(UUID?.self),
                                    stage: try r["stage"].decode(Int?.self), channel: try r["channel"].decode(String?.self),
                                    recipient: try r["recipient"].decode(String?.self),
                                    payload: try r["payload"].decode(String?.self).flatMap { JSONValue.parse($0) }, request: request))
        }
        return items
    }

    /// Carries out a handler's plan in the claim's transaction: cancels, holds back, and leases the batches until
    /// `leaseUntil` (counting the attempt). Returns the batches with their messages' attempts as leased.
    func apply(_ plan: OutboxPlan, leaseUntil: Date, on connection: PostgresConnection) async throws -> [OutboxBatch] {
        if !plan.cancelled.isEmpty {
            try await connection.query("""
                UPDATE outbox o SET status = 'cancelled', lease_until = NULL, last_error = t.reason
                FROM unnest(\(plan.cancelled.map(\.id))::uuid[], \(plan.cancelled.map(\.reason))::text[]) AS t(id, reason) WHERE o.id = t.id
                """, logger: logger)
        }
        for (ids, until) in plan.held {
            try await connection.query("""
                UPDATE outbox SET status = 'pending', lease_until = NULL, next_attempt_at = \(until) WHERE id = ANY(\(ids))
                """, logger: logger)
        }
        let ids = plan.batches.flatMap(\.ids)
        guard !ids.isEmpty else { return [] }
        var attempts: [UUID: Int] = [:]
        for try await (id, count) in try await connection.query("""
            UPDATE outbox SET status = 'sending', lease_until = \(leaseUntil), attempts = attempts + 1 WHERE id = ANY(\(ids)) RETURNING id, attempts
            """, logger: logger).decode((UUID, Int).self) { attempts[id] = count }
        return plan.batches.map { batch in
            OutboxBatch(items: batch.items.map { item in
                var leased = item
                leased.attempts = attempts[item.id] ?? item.attempts + 1
                return leased
            })
        }
    }

    /// Records an attempt at every message of `batch` and moves them on: sent, sandboxed, due again after `retryIn`,
    /// or failed for good. Returns the status it recorded and the messages that were still this worker's (a message
    /// whose lease ran out may have been taken by another worker, which settles it itself).
    func settle(_ batch: OutboxBatch, _ result: AttemptResult, at instant: Date,
                on connection: PostgresConnection) async throws -> (status: OutboxStatus, settled: Set<UUID>) {
        let (outcome, status, error): (String, OutboxStatus, String?) = switch result.outcome {
        case .delivered: batch.mode == .sandbox ? ("sandboxed", .sandboxed, nil) : ("delivered", .sent, nil)
        case .retryable(let error, _): result.retryIn == nil ? ("failed", .failed, "\(error) (gave up after \(batch.attempts) attempts)")
                                                             : ("retryable", .pending, error)
        case .permanent(let error): ("failed", .failed, error)
        }
        let reference: String? = if case .delivered(let reference) = result.outcome { reference } else { nil }
        // The attempt was made whoever settles the message, so it is recorded either way.
        try await connection.query("""
            INSERT INTO outbox_attempts (message_id, outcome, status_code, error, duration_ms, attempted_at)
            SELECT id, \(outcome), \(result.statusCode), \(error), \(result.durationMs), \(instant) FROM unnest(\(batch.ids)::uuid[]) AS t(id)
            """, logger: logger)
        let next = instant.addingTimeInterval(result.retryIn ?? 0)
        var settled: Set<UUID> = []
        for try await id in try await connection.query("""
            UPDATE outbox o SET status = \(status.rawValue), lease_until = NULL, last_error = \(error), response_status = \(result.statusCode),
                provider_reference = CASE WHEN \(status.rawValue) IN ('sent', 'sandboxed') THEN \(reference) ELSE o.provider_reference END,
                sent_at = CASE WHEN \(status.rawValue) IN ('sent', 'sandboxed') THEN \(instant) END,
                next_attempt_at = CASE WHEN \(status.rawValue) = 'pending' THEN \(next) ELSE o.next_attempt_at END
            FROM unnest(\(batch.ids)::uuid[], \(batch.items.map(\.attempts))::integer[]) AS t(id, attempts)
            WHERE o.id = t.id AND o.status = 'sending' AND o.attempts = t.attempts
            RETURNING o.id
            """, logger: logger).decode(UUID.self) { settled.insert(id) }
        return (status, settled)
    }

    /// Gives leased batches back unsent (their lease would run out before they were sent): due again at once, the
    /// attempt they were leased for not counted.
    func release(_ batches: [OutboxBatch], on connection: PostgresConnection) async throws {
        let items = batches.flatMap(\.items)
        guard !items.isEmpty else { return }
        try await connection.query("""
            UPDATE outbox o SET status = 'pending', lease_until = NULL, attempts = o.attempts - 1
            FROM unnest(\(items.map(\.id))::uuid[], \(items.map(\.attempts))::integer[]) AS t(id, attempts)
            WHERE o.id = t.id AND o.status = 'sending' AND o.attempts = t.attempts
            """, logger: logger)
    }

    static let columns = """
        id, provider, mode, method, url, status, attempts, next_attempt_at, last_error, response_status, ordering_key, created_at, sent_at
        """

    /// Newest first, optionally of one status and provider.
    public func list(status: String?, provider: String?, page: CursorPage, on connection: PostgresConnection) async throws -> [OutboxEntry] {
        try await entries(connection.query("""
            SELECT \(unescaped: Self.columns) FROM outbox
            WHERE handler = 'http' AND (\(status)::text IS NULL OR status = \(status)) AND (\(provider)::text IS NULL OR provider = \(provider))
              AND (\(page.after?.time)::timestamptz IS NULL OR (created_at, id) < (\(page.after?.time), \(page.after?.id)))
            ORDER BY created_at DESC, id DESC LIMIT \(page.rowsToFetch)
            """, logger: logger))
    }

    public func find(_ id: UUID, on connection: PostgresConnection) async throws -> OutboxEntry? {
        try await entries(connection.query("SELECT \(unescaped: Self.columns) FROM outbox WHERE id = \(id) AND handler = 'http'", logger: logger)).first
    }

    public func attempts(of id: UUID, on connection: PostgresConnection) async throws -> [OutboxAttempt] {
        var result: [OutboxAttempt] = []
        for try await (outcome, code, error, duration, at) in try await connection.query("""
            SELECT outcome, status_code, error, duration_ms, attempted_at FROM outbox_attempts WHERE message_id = \(id) ORDER BY id
            """, logger: logger).decode((String, Int?, String?, Int, Date).self) {
            result.append(OutboxAttempt(outcome: outcome, statusCode: code, error: error, durationMs: duration, attemptedAt: at))
        }
        return result
    }

    /// Sends a failed message again from now, with a fresh count of attempts; nil when it is not failed.
    public func retry(_ id: UUID, at instant: Date, on connection: PostgresConnection) async throws -> OutboxEntry? {
        let entry = try await entries(connection.query("""
            UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = \(instant), last_error = NULL
            WHERE id = \(id) AND handler = 'http' AND status = 'failed' RETURNING \(unescaped: Self.columns)
            """, logger: logger)).first
        if entry != nil { try await connection.query("SELECT pg_notify(\(Self.channel), '')", logger: logger) }
        return entry
    }

    private func entries(_ rows: PostgresRowSequence) async throws -> [OutboxEntry] {
        var result: [OutboxEntry] = []
        for try await (id, provider, mode, method, url, status, attempts, next, error, code, ordering, created, sent)
            in rows.decode((UUID, String, String, String, String, String, Int, Date, String?, Int?, String?, Date, Date?).self) {
            result.append(OutboxEntry(id: id, provider: provider, mode: ProviderMode(rawValue: mode) ?? .sandbox, method: method, url: url,
                                      status: status, attempts: attempts, nextAttemptAt: next, lastError: error, responseStatus: code,
                                      orderingKey: ordering, createdAt: created, sentAt: sent))
        }
        return result
    }
}
