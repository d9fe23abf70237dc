import Foundation
import Logging
import OwlCore
import PostgresNIO

/// A message that is not a step of an escalation (a handoff notice, a reply to a person), queued once under `key`.
enum OutboxMessage {
    static func queue(_ method: NotificationMethod, recipient: String, payload: JSONValue, key: String, mode: ProviderMode, at instant: Date,
                      on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("""
            INSERT INTO notification_outbox (idempotency_key, provider, method, mode, recipient, payload, next_attempt_at, created_at)
            VALUES (\(key), \(method.provider), \(method.rawValue), \(mode.rawValue), \(recipient), \(payload.jsonText())::jsonb, \(instant), \(instant))
            ON CONFLICT (idempotency_key) DO NOTHING
            """, logger: logger)
    }
}
