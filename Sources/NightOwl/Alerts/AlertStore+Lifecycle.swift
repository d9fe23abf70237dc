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
    /// Words in the title, or the exact fingerprint (the console's free text).
    var text: String? = nil
    /// Oldest first instead of newest first.
    var oldestFirst = false
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
              AND (\(filter.text)::text IS NULL OR strpos(lower(title), lower(\(filter.text))) > 0 OR fingerprint = \(filter.text))
              AND (\(page.after?.micros)::bigint IS NULL
                   OR (first_fired_at, id) \(unescaped: filter.oldestFirst ? ">" : "<")
                      (timestamptz 'epoch' + \(page.after?.micros)::bigint * interval '1 microsecond', \(page.after?.id)))
            ORDER BY first_fired_at \(unescaped: filter.oldestFirst ? "ASC" : "DESC"), id \(unescaped: filter.oldestFirst ? "ASC" : "DESC")
            LIMIT \(page.rowsToFetch)
            """, logger: logger)
        var alerts: [Alert] = []
        for try await row in rows { alerts.append(try Self.decode(row)) }
        return alerts
    }

    /// How many alerts of each status match `filter` (its statuses aside): the counts above the console's list.
    func counts(_ filter: AlertFilter, on connection: PostgresConnection) async throws -> [AlertStatus: Int] {
        var counts: [AlertStatus: Int] = [:]
        for try await (status, count) in try await connection.query("""
            SELECT status, count(*)::integer FROM alerts
            WHERE (cardinality(\(filter.severities)::text[]) = 0 OR severity = ANY(\(filter.severities)::text[]))
              AND (\(filter.service)::text IS NULL OR service = \(filter.service))
              AND (\(filter.source)::text IS NULL OR source = \(filter.source))
              AND (\(filter.since)::timestamptz IS NULL OR first_fired_at >= \(filter.since))
              AND (\(filter.until)::timestamptz IS NULL OR first_fired_at < \(filter.until))
              AND (\(filter.text)::text IS NULL OR strpos(lower(title), lower(\(filter.text))) > 0 OR fingerprint = \(filter.text))
            GROUP BY status
            """, logger: logger).decode((String, Int).self) {
            if let status = AlertStatus(rawValue: status) { counts[status] = count }
        }
        return counts
    }

    /// The alert whose id starts with `prefix` (at least 8 hex digits), when exactly one does: the console's short links.
    func find(prefix: String, on connection: PostgresConnection) async throws -> UUID? {
        let lower = prefix.lowercased()
        guard (8...36).contains(lower.count), lower.allSatisfy({ $0.isHexDigit || $0 == "-" }) else { return nil }
        if let id = UUID(uuidString: lower) { return id }
        var found: [UUID] = []
        for try await id in try await connection.query("""
            SELECT id FROM alerts WHERE id::text LIKE \(lower + "%") LIMIT 2
            """, logger: logger).decode(UUID.self) { found.append(id) }
        return found.count == 1 ? found[0] : nil
    }

    /// Takes an acknowledgement back (the console's undo): the alert fires again and its escalation goes on from the
    /// tier it had reached, due when it would have been (at once if that time has passed).
    func unacknowledge(_ id: UUID, on connection: PostgresConnection) async throws -> Alert? {
        let rows = try await connection.query("""
            UPDATE alerts SET status = 'firing', acknowledged_by = NULL, acknowledged_at = NULL, updated_at = now()
            WHERE id = \(id) AND status = 'acknowledged' RETURNING \(unescaped: Self.columns)
            """, logger: logger)
        var alert: Alert?
        for try await row in rows { alert = try Self.decode(row) }
        guard alert != nil else { return nil }
        try await connection.query("""
            UPDATE escalation_state SET finished_at = NULL, finish_reason = NULL, next_at = GREATEST(next_at, now())
            WHERE alert_id = \(id) AND finish_reason = 'acknowledged'
            """, logger: logger)
        return alert
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
