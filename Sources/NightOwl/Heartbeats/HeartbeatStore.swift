import Foundation
import Logging
import OwlCore
import PostgresNIO

/// Heartbeats' SQL, and the alert a missed one raises or a ping resolves (in the same transaction as the state).
struct HeartbeatStore: Sendable {
    let logger: Logger
    var alerts: AlertStore { AlertStore(logger: logger) }

    static let columns = "id, name, interval_seconds, severity, service, enabled, last_ping_at, expired_at, created_at, updated_at"

    static func decode(_ row: PostgresRow) throws -> Heartbeat {
        let (id, name, interval, severity, service, enabled, ping, expired, created, updated) =
            try row.decode((UUID, String, Int, String, String?, Bool, Date?, Date?, Date, Date).self)
        return Heartbeat(id: id, name: name, interval: interval, severity: Severity(rawValue: severity) ?? .critical, service: service,
                         enabled: enabled, lastPingAt: ping, expiredAt: expired, createdAt: created, updatedAt: updated)
    }

    func list(page: OffsetPage, on connection: PostgresConnection) async throws -> ([Heartbeat], Int) {
        try await connection.query("""
            SELECT \(unescaped: Self.columns), count(*) OVER () FROM heartbeats ORDER BY lower(name), id LIMIT \(page.limit) OFFSET \(page.offset)
            """, logger: logger).page(Self.decode)
    }

    func get(_ id: UUID, lock: Bool = false, on connection: PostgresConnection) async throws -> Heartbeat? {
        for try await row in try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM heartbeats WHERE id = \(id) \(unescaped: lock ? "FOR UPDATE" : "")
            """, logger: logger) { return try Self.decode(row) }
        return nil
    }

    /// Inserts (`id == nil`) or updates.
    func save(_ id: UUID?, _ f: HeartbeatFields, on connection: PostgresConnection) async throws -> Heartbeat {
        do {
            let rows = try await connection.query(id == nil ? """
                INSERT INTO heartbeats (name, interval_seconds, severity, service, enabled)
                VALUES (\(f.name), \(f.interval), \(f.severity.rawValue), \(f.service), \(f.enabled)) RETURNING \(unescaped: Self.columns)
                """ : """
                UPDATE heartbeats SET name = \(f.name), interval_seconds = \(f.interval), severity = \(f.severity.rawValue), service = \(f.service),
                    enabled = \(f.enabled), updated_at = now()
                WHERE id = \(id) RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            for try await row in rows { return try Self.decode(row) }
        } catch where PostgresErrorCode.isUniqueViolation(error) {
            throw APIError.conflict("a heartbeat named '\(f.name)' already exists")
        }
        throw APIError.notFound("heartbeat")
    }

    func delete(_ id: UUID, on connection: PostgresConnection) async throws -> Heartbeat? {
        for try await row in try await connection.query("DELETE FROM heartbeats WHERE id = \(id) RETURNING \(unescaped: Self.columns)",
                                                        logger: logger) { return try Self.decode(row) }
        return nil
    }

    /// Records a ping; when the heartbeat had expired, its alert is resolved. Returns the heartbeat and whether it
    /// had expired.
    func ping(_ id: UUID, at instant: Date, tenant: TenantSlug, on connection: PostgresConnection) async throws -> (Heartbeat, Bool)? {
        guard let before = try await get(id, lock: true, on: connection) else { return nil }
        guard let after = try await connection.query("""
            UPDATE heartbeats SET last_ping_at = GREATEST(last_ping_at, \(instant)), expired_at = NULL WHERE id = \(id)
            RETURNING \(unescaped: Self.columns)
            """, logger: logger).collect().first.map(Self.decode) else { return nil }
        guard before.expiredAt != nil else { return (after, false) }
        let resolved = try await alerts.transition([after.resolvedAlert(at: instant)], to: .resolved, on: connection)
        try await alerts.notify(tenant: tenant, event: "resolved", ids: Array(resolved.values), on: connection)
        return (after, true)
    }

    /// Marks the heartbeats whose ping is overdue at `instant` as expired and raises their alerts (created, matched
    /// to services and the knowledge base, and announced to the escalation engine like a webhook's). Returns them.
    func expire(at instant: Date, tenant: TenantSlug, on connection: PostgresConnection) async throws -> [Heartbeat] {
        var expired: [Heartbeat] = []
        for try await row in try await connection.query("""
            UPDATE heartbeats SET expired_at = \(instant)
            WHERE enabled AND expired_at IS NULL AND last_ping_at IS NOT NULL
              AND last_ping_at + interval_seconds * interval '1 second' < \(instant)
            RETURNING \(unescaped: Self.columns)
            """, logger: logger) { expired.append(try Self.decode(row)) }
        guard !expired.isEmpty else { return [] }
        let fired = try await alerts.fire(expired.map { $0.missedAlert(at: instant) }, on: connection)
        let created = fired.values.filter(\.inserted).map(\.0)
        try await alerts.assignServices(created, on: connection)
        _ = try await alerts.enrich(created, on: connection)
        try await alerts.notify(tenant: tenant, event: "created", ids: created, on: connection)
        return expired
    }
}

/// The worker's check: every tenant's overdue heartbeats raise their alerts.
public struct HeartbeatMonitor: Sendable {
    let database: Database
    let logger: Logger
    let now: @Sendable () -> Date

    public init(database: Database, logger: Logger, now: @escaping @Sendable () -> Date) {
        self.database = database
        self.logger = logger
        self.now = now
    }

    public func run(_ tenant: Tenant) async throws -> [Heartbeat] {
        let instant = now()
        return try await database.withTenant(tenant.slug, actor: "heartbeat-monitor") {
            try await HeartbeatStore(logger: logger).expire(at: instant, tenant: tenant.slug, on: $0)
        }
    }
}
