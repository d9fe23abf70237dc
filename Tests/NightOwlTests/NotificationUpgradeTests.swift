import Foundation
import OwlCore
import OwlTestSupport
import PostgresNIO
import Testing
@testable import NightOwl

/// Notifications moved from NightOwl's own table into the shared outbox (core 0007, NightOwl 0021): what was waiting
/// at the upgrade is still sent, and what was sent keeps its attempts.
@Suite struct NotificationUpgradeTests {
    static let moved: Set<String> = ["core/0007_outbox_handlers.sql", "nightowl/0021_notifications_in_shared_outbox.sql"]

    @Test func messagesQueuedBeforeTheUpgradeAreKeptAndDelivered() async throws {
        let database = try await TestDatabase.isolatedDatabase()
        let full = NightOwlService.definition.allMigrations
        let before = MigrationSet(global: full.global, tenant: full.tenant.filter { !Self.moved.contains($0.id) }, tenantSetup: full.tenantSetup)
        #expect(before.tenant.count == full.tenant.count - 2)
        _ = try await Migrator(database: database, migrations: before).migratePublic()
        let slug = TenantSlug("t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20))!
        let tenant = try await TenantProvisioner(database: database, migrator: Migrator(database: database, migrations: before))
            .create(slug: slug, name: "Upgrade").tenant
        let queuedAt = Date(timeIntervalSince1970: 1_800_000_000)
        try await database.withTenant(slug) { connection in
            try await connection.query("""
                INSERT INTO notification_outbox (id, idempotency_key, provider, method, mode, recipient, payload, status, attempts, next_attempt_at,
                                                 created_at, sent_at, provider_reference)
                VALUES ('00000000-0000-4000-8000-000000000001', 'handoff:a', 'slack', 'slack_dm', 'sandbox', 'U1', '{"slack":{"text":"you are on call"}}',
                        'pending', 0, \(queuedAt), \(queuedAt), NULL, NULL),
                       ('00000000-0000-4000-8000-000000000002', 'handoff:b', 'twilio', 'sms', 'live', '+15550001', '{"sms":"on call"}',
                        'sent', 2, \(queuedAt), \(queuedAt), \(queuedAt.addingTimeInterval(12)), 'SM123')
                """, logger: TestDatabase.logger)
            try await connection.query("""
                INSERT INTO notification_attempts (notification_id, outcome, error, attempted_at)
                VALUES ('00000000-0000-4000-8000-000000000002', 'retryable', 'HTTP 503', \(queuedAt)),
                       ('00000000-0000-4000-8000-000000000002', 'delivered', NULL, \(queuedAt.addingTimeInterval(12)))
                """, logger: TestDatabase.logger)
        }

        #expect(try await Migrator(database: database, migrations: full).migrateAll() >= 2)

        let rows = try await database.withTenant(slug) { connection -> [String] in
            var rows: [String] = []
            for try await (key, handler, channel, status, attempts, reference) in try await connection.query("""
                SELECT idempotency_key, handler, channel, status, attempts, provider_reference FROM outbox ORDER BY idempotency_key
                """, logger: TestDatabase.logger).decode((String, String, String?, String, Int, String?).self) {
                rows.append("\(key) \(handler) \(channel ?? "-") \(status) \(attempts) \(reference ?? "-")")
            }
            for try await (outcome, error) in try await connection.query("""
                SELECT outcome, error FROM outbox_attempts WHERE message_id = '00000000-0000-4000-8000-000000000002' ORDER BY id
                """, logger: TestDatabase.logger).decode((String, String?).self) { rows.append("\(outcome) \(error ?? "-")") }
            return rows
        }
        #expect(rows == ["handoff:a notification slack_dm pending 0 -", "handoff:b notification sms sent 2 SM123", "retryable HTTP 503", "delivered -"])

        // The message that was waiting goes out (sandbox: recorded) on the shared outbox.
        let dispatcher = NotificationDispatcher(database: database, logger: TestDatabase.logger, sender: RefusingSender(),
                                                now: { queuedAt.addingTimeInterval(60) })
        #expect(try await dispatcher.drain(tenant) == 1)
        let status = try await database.scalar("SELECT status FROM notification_outbox WHERE idempotency_key = 'handoff:a'", in: slug, as: String.self)
        #expect(status == "sandboxed")
    }
}
