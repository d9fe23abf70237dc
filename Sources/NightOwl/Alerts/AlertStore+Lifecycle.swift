import Foundation
import OwlCore
import PostgresNIO

struct AlertFilter {
    var statuses: [String]
    var severities: [String]
    var service: String?
    var source: String?
    var fingerprint: String?
    var since: Date?
    var until: Date?
}

extension AlertStore {
    func get(_ id: UUID, lock: Bool = false, on connection: PostgresConnection) async throws -> Alert? {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM alerts WHERE id = \(id) \(unescaped: lock ? "FOR UPDATE" : "")
            """, logger: logger)
        for try await row in rows { return try Self.decode(row) }
        return nil
    }

    /// Newest first by first firing, `limit + 1` rows (the extra one says whether there is a next page).
    func list(_ filter: AlertFilter, page: CursorPage, on connection: PostgresConnection) async throws -> [Alert] {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM alerts
            WHERE (cardinality(\(filter.statuses)::text[]) = 0 OR status = ANY(\(filter.statuses)::text[]))
              AND (cardinality(\(filter.severities)::text[]) = 0 OR severity = ANY(\(filter.severities)::text[]))
              AND (\(filter.service)::text IS NULL OR service = \(filter.service))
              AND (\(filter.source)::text IS NULL OR source = \(filter.source))
              AND (\(filter.fingerprint)::text IS NULL OR fingerprint = \(filter.fingerprint))
              AND (\(filter.since)::timestamptz IS NULL OR first_fired_at >= \(filter.since))
              AND (\(filter.until)::timestamptz IS NULL OR first_fired_at < \(filter.until))
              AND (\(page.after?.micros)::bigint IS NULL
                   OR (first_fired_at, id) < (timestamptz 'epoch' + \(page.after?.micros)::bigint * interval '1 microsecond', \(page.after?.id)))
            ORDER BY first_fired_at DESC, id DESC
            LIMIT \(page.rowsToFetch)
            """, logger: logger)
        var alerts: [Alert] = []
        for try await row in rows { alerts.append(try Self.decode(row)) }
        return alerts
    }

    func acknowledge(_ id: UUID, by actor: String, on connection: PostgresConnection) async throws -> Alert? {
        let rows = try await connection.query("""
            UPDATE alerts SET status = 'acknowledged', acknowledged_by = \(actor), acknowledged_at = now(), updated_at = now()
            WHERE id = \(id) AND status = 'firing' RETURNING \(unescaped: Self.columns)
            """, logger: logger)
        for try await row in rows { return try Self.decode(row) }
        return nil
    }

    /// Resolves an open alert; a resolution by a person counts for the knowledge-base entry it matched.
    func resolve(_ id: UUID, by actor: String, notes: String?, on connection: PostgresConnection) async throws -> Alert? {
        let rows = try await connection.query("""
            UPDATE alerts SET status = 'resolved', resolved_by = \(actor), resolved_at = now(), resolution_notes = \(notes), updated_at = now()
            WHERE id = \(id) AND status <> 'resolved' RETURNING \(unescaped: Self.columns)
            """, logger: logger)
        var resolved: Alert?
        for try await row in rows { resolved = try Self.decode(row) }
        if let incident = resolved?.matchedIncidentID {
            try await connection.query("""
                UPDATE incidents SET resolution_count = resolution_count + 1, last_seen_at = now(), updated_at = now()
                WHERE id = \(incident) AND merged_into_id IS NULL
                """, logger: logger)
        }
        return resolved
    }

    /// Whether the knowledge base has an entry for this alert (matched, or listing its fingerprint).
    func isKnown(_ alert: Alert, on connection: PostgresConnection) async throws -> Bool {
        if alert.matchedIncidentID != nil { return true }
        let rows = try await connection.query("""
            SELECT EXISTS (SELECT 1 FROM incidents WHERE fingerprints @> ARRAY[\(alert.fingerprint)::text] AND merged_into_id IS NULL AND archived_at IS NULL)
            """, logger: logger)
        for try await exists in rows.decode(Bool.self) { return exists }
        return false
    }
}
