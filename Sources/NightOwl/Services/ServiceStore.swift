import Foundation
import OwlCore
import PostgresNIO

/// SQL for `services`.
struct ServiceStore {
    let logger: Logger

    static let columns = "id, name, description, cluster, namespace, roster_id, escalation_policy_id, created_at, updated_at"

    static func decode(_ row: PostgresRow) throws -> MonitoredService {
        let (id, name, description, cluster, namespace, roster, policy, created, updated) =
            try row.decode((UUID, String, String, String?, String?, UUID?, UUID?, Date, Date).self)
        return MonitoredService(id: id, name: name, description: description, cluster: cluster, namespace: namespace, rosterID: roster,
                                escalationPolicyID: policy, createdAt: created, updatedAt: updated)
    }

    /// By id, or else by name (case-insensitive).
    func find(_ key: String, lock: Bool = false, on connection: PostgresConnection) async throws -> MonitoredService? {
        let id = UUID(uuidString: key)
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM services
            WHERE id = \(id) OR (\(id)::uuid IS NULL AND lower(name) = lower(\(key)))
            \(unescaped: lock ? "FOR UPDATE" : "")
            """, logger: logger)
        for try await row in rows { return try Self.decode(row) }
        return nil
    }

    func list(page: OffsetPage, on connection: PostgresConnection) async throws -> ([MonitoredService], Int) {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns), count(*) OVER () FROM services ORDER BY lower(name), id
            LIMIT \(page.limit) OFFSET \(page.offset)
            """, logger: logger)
        let (items, total) = try await rows.page(Self.decode)
        return (items, total)
    }

    /// Inserts (`id == nil`) or updates; a roster id must name a top-level roster.
    func save(_ id: UUID?, _ fields: ServiceFields, on connection: PostgresConnection) async throws -> MonitoredService {
        if let policy = fields.escalationPolicyID {
            var found = false
            for try await _ in try await connection.query("SELECT 1 FROM escalation_policies WHERE id = \(policy)", logger: logger) { found = true }
            guard found else { throw APIError.validation("escalation_policy_id must name a policy of this tenant", field: "escalation_policy_id") }
        }
        if let roster = fields.rosterID {
            let rows = try await connection.query("SELECT 1 FROM rosters WHERE id = \(roster) AND parent_id IS NULL", logger: logger)
            var found = false
            for try await _ in rows { found = true }
            guard found else { throw APIError.validation("roster_id must name a roster of this tenant", field: "roster_id") }
        }
        do {
            let rows = try await connection.query(id == nil ? """
                INSERT INTO services (name, description, cluster, namespace, roster_id, escalation_policy_id)
                VALUES (\(fields.name), \(fields.description), \(fields.cluster), \(fields.namespace), \(fields.rosterID), \(fields.escalationPolicyID))
                RETURNING \(unescaped: Self.columns)
                """ : """
                UPDATE services SET name = \(fields.name), description = \(fields.description), cluster = \(fields.cluster),
                    namespace = \(fields.namespace), roster_id = \(fields.rosterID), escalation_policy_id = \(fields.escalationPolicyID),
                    updated_at = now()
                WHERE id = \(id) RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            for try await row in rows { return try Self.decode(row) }
        } catch where PostgresErrorCode.isUniqueViolation(error) {
            throw APIError.conflict("a service named '\(fields.name)' already exists")
        }
        throw APIError.notFound("service")
    }
}
