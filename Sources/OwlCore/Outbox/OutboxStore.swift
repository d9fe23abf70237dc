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

    /// A claimed message: what the deliverer needs to send it.
    struct Claimed: Sendable {
        var id: UUID
        var provider: String
        var mode: ProviderMode
        var message: OutboundMessage
        var attempt: Int
    }

    /// Leases up to `limit` due messages: pending ones, and those whose sender's lease ran out (it died mid-send).
    /// A message waits while an earlier one of its ordering key is still on its way.
    func claim(at instant: Date, lease: TimeInterval, limit: Int, on connection: PostgresConnection) async throws -> [Claimed] {
        let rows = try await connection.query("""
            WITH due AS (
                SELECT o.id FROM outbox o
                WHERE (o.status = 'pending' OR (o.status = 'sending' AND o.lease_until < \(instant))) AND o.next_attempt_at <= \(instant)
                  AND (o.ordering_key IS NULL OR NOT EXISTS (
                      SELECT 1 FROM outbox p WHERE p.ordering_key = o.ordering_key AND p.seq < o.seq AND p.status IN ('pending', 'sending')))
                ORDER BY o.next_attempt_at, o.seq LIMIT \(limit)
                FOR UPDATE OF o SKIP LOCKED)
            UPDATE outbox o SET status = 'sending', lease_until = \(instant.addingTimeInterval(lease)), attempts = o.attempts + 1
            FROM due WHERE o.id = due.id
            RETURNING o.id, o.idempotency_key, o.provider, o.mode, o.method, o.url, o.headers::text, o.body, o.auth::text, o.ordering_key, o.attempts
            """, logger: logger)
        var claimed: [Claimed] = []
        for try await (id, key, provider, mode, method, url, headers, body, auth, ordering, attempts)
            in rows.decode((UUID, String, String, String, String, String, String, String, String?, String?, Int).self) {
            var fields: [String: String] = [:]
            for (name, value) in JSONValue.parse(headers)?.objectValue ?? [:] { if let text = value.stringValue { fields[name] = text } }
            let message = OutboundMessage(provider: provider, key: key, method: OutboundMessage.Method(rawValue: method) ?? .POST, url: url,
                                          headers: fields, body: body,
                                          auth: auth.flatMap { try? JSONDecoder().decode(OutboxAuth.self, from: Data($0.utf8)) },
                                          orderingKey: ordering)
            claimed.append(Claimed(id: id, provider: provider, mode: ProviderMode(rawValue: mode) ?? .sandbox, message: message, attempt: attempts))
        }
        return claimed
    }

    /// Records an attempt and moves the message on: sent, sandboxed, due again after `retryIn`, or failed for good.
    /// Returns the status it recorded.
    func settle(_ claimed: Claimed, _ result: AttemptResult, at instant: Date, on connection: PostgresConnection) async throws -> String {
        let (outcome, status, error): (String, String, String?) = switch result.outcome {
        case .delivered: claimed.mode == .sandbox ? ("sandboxed", "sandboxed", nil) : ("delivered", "sent", nil)
        case .retryable(let error, _): result.retryIn == nil ? ("failed", "failed", "\(error) (gave up after \(claimed.attempt) attempts)")
                                                             : ("retryable", "pending", error)
        case .permanent(let error): ("failed", "failed", error)
        }
        try await connection.query("""
            INSERT INTO outbox_attempts (message_id, outcome, status_code, error, duration_ms, attempted_at)
            VALUES (\(claimed.id), \(outcome), \(result.statusCode), \(error), \(result.durationMs), \(instant))
            """, logger: logger)
        let next = instant.addingTimeInterval(result.retryIn ?? 0)
        try await connection.query("""
            UPDATE outbox SET status = \(status), lease_until = NULL, last_error = \(error), response_status = \(result.statusCode),
                sent_at = CASE WHEN \(status) IN ('sent', 'sandboxed') THEN \(instant) END,
                next_attempt_at = CASE WHEN \(status) = 'pending' THEN \(next) ELSE next_attempt_at END
            WHERE id = \(claimed.id) AND status = 'sending' AND attempts = \(claimed.attempt)
            """, logger: logger)
        return status
    }

    static let columns = """
        id, provider, mode, method, url, status, attempts, next_attempt_at, last_error, response_status, ordering_key, created_at, sent_at
        """

    /// Newest first, optionally of one status and provider.
    public func list(status: String?, provider: String?, page: CursorPage, on connection: PostgresConnection) async throws -> [OutboxEntry] {
        try await entries(connection.query("""
            SELECT \(unescaped: Self.columns) FROM outbox
            WHERE (\(status)::text IS NULL OR status = \(status)) AND (\(provider)::text IS NULL OR provider = \(provider))
              AND (\(page.after?.time)::timestamptz IS NULL OR (created_at, id) < (\(page.after?.time), \(page.after?.id)))
            ORDER BY created_at DESC, id DESC LIMIT \(page.rowsToFetch)
            """, logger: logger))
    }

    public func find(_ id: UUID, on connection: PostgresConnection) async throws -> OutboxEntry? {
        try await entries(connection.query("SELECT \(unescaped: Self.columns) FROM outbox WHERE id = \(id)", logger: logger)).first
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
            WHERE id = \(id) AND status = 'failed' RETURNING \(unescaped: Self.columns)
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

/// What an attempt came to, with what the store records of it; `retryIn` is nil when a retryable failure gives up.
struct AttemptResult: Sendable {
    var outcome: DeliveryOutcome
    var statusCode: Int?
    var durationMs: Int
    var retryIn: TimeInterval?
}
