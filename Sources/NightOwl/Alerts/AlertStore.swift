import Foundation
import OwlCore
import PostgresNIO

/// SQL for `alerts`. Batch methods take the events of many webhook requests at once (see `AlertIngestor`).
struct AlertStore {
    let logger: Logger

    /// Full-text matches below this normalised rank (rank / (rank + 1)) are not offered as known solutions: in practice
    /// a match has to hit the title or error patterns of an entry, or several of its symptoms.
    static let textMatchThreshold = 0.2

    static let columns = """
        id, fingerprint, status, severity, source, title, description, labels::text, annotations::text, service, cluster, namespace,
        runbook_url, generator_url, occurrence_count, first_fired_at, last_fired_at, acknowledged_by, acknowledged_at, resolved_by,
        resolved_at, resolution_notes, matched_incident_id, suggested_solution, enrichment_source, agent_metadata::text, created_at
        """

    static func decode(_ row: PostgresRow) throws -> Alert {
        let r = row.makeRandomAccess()
        return Alert(
            id: try r[0].decode(UUID.self), fingerprint: try r[1].decode(String.self),
            status: AlertStatus(rawValue: try r[2].decode(String.self)) ?? .firing, severity: Severity(rawValue: try r[3].decode(String.self)) ?? .info,
            source: try r[4].decode(String.self), title: try r[5].decode(String.self), description: try r[6].decode(String.self),
            labels: JSONValue.parse(try r[7].decode(String.self)) ?? .object([:]), annotations: JSONValue.parse(try r[8].decode(String.self)) ?? .object([:]),
            service: try r[9].decode(String?.self), cluster: try r[10].decode(String?.self), namespace: try r[11].decode(String?.self),
            runbookURL: try r[12].decode(String?.self), generatorURL: try r[13].decode(String?.self), occurrenceCount: try r[14].decode(Int.self),
            firstFiredAt: try r[15].decode(Date.self), lastFiredAt: try r[16].decode(Date.self), acknowledgedBy: try r[17].decode(String?.self),
            acknowledgedAt: try r[18].decode(Date?.self), resolvedBy: try r[19].decode(String?.self), resolvedAt: try r[20].decode(Date?.self),
            resolutionNotes: try r[21].decode(String?.self), matchedIncidentID: try r[22].decode(UUID?.self),
            suggestedSolution: try r[23].decode(String?.self), enrichmentSource: try r[24].decode(String?.self),
            agentMetadata: try r[25].decode(String?.self).flatMap(JSONValue.parse), createdAt: try r[26].decode(Date.self))
    }

    /// Opens or re-fires alerts: one open alert per fingerprint, a repeat adds to its count. Events of the same
    /// fingerprint in one batch are folded first (one statement cannot update a row twice). Returns, per fingerprint,
    /// the alert id and whether it was new.
    func fire(_ events: [AlertEvent], resolved: Bool = false, on connection: PostgresConnection) async throws -> [String: (UUID, inserted: Bool)] {
        // Rows go in fingerprint order, the lock order of every batch statement, so concurrent batches cannot deadlock.
        let rows = AlertFold.fold(events).sorted { $0.event.fingerprint < $1.event.fingerprint }
        func json(_ map: [String: String]) -> String { JSONText.object(map) }
        let result = try await connection.query("""
            INSERT INTO alerts AS a (fingerprint, status, severity, source, title, description, labels, annotations, service, cluster,
                                     namespace, runbook_url, generator_url, occurrence_count, first_fired_at, last_fired_at,
                                     agent_metadata, resolved_at, resolved_by)
            SELECT e.f, \(resolved ? "resolved" : "firing"), e.s, e.src, e.t, e.d, e.l::jsonb, e.an::jsonb, NULLIF(e.svc, ''), NULLIF(e.cl, ''),
                   NULLIF(e.ns, ''), NULLIF(e.rb, ''), NULLIF(e.gen, ''), e.n, e.ff, e.lf, NULLIF(e.agent, '')::jsonb,
                   CASE WHEN \(resolved) THEN now() END, CASE WHEN \(resolved) THEN e.actor END
            FROM unnest(\(rows.map(\.event.fingerprint))::text[], \(rows.map(\.event.severity.rawValue))::text[],
                        \(rows.map(\.event.source.rawValue))::text[], \(rows.map(\.event.title))::text[], \(rows.map(\.event.description))::text[],
                        \(rows.map { json($0.event.labels) })::text[], \(rows.map { json($0.event.annotations) })::text[],
                        \(rows.map { $0.event.service ?? "" })::text[], \(rows.map { $0.event.cluster ?? "" })::text[],
                        \(rows.map { $0.event.namespace ?? "" })::text[], \(rows.map { $0.event.runbookURL ?? "" })::text[],
                        \(rows.map { $0.event.generatorURL ?? "" })::text[], \(rows.map(\.count))::int[], \(rows.map(\.first))::timestamptz[],
                        \(rows.map(\.last))::timestamptz[], \(rows.map { $0.event.agent.map { JSONValue.from($0).jsonText() } ?? "" })::text[],
                        \(rows.map(\.event.actor))::text[])
                 AS e(f, s, src, t, d, l, an, svc, cl, ns, rb, gen, n, ff, lf, agent, actor)
            ON CONFLICT (fingerprint) WHERE status <> 'resolved' DO UPDATE SET
                occurrence_count = a.occurrence_count + EXCLUDED.occurrence_count,
                last_fired_at = GREATEST(a.last_fired_at, EXCLUDED.last_fired_at),
                severity = EXCLUDED.severity, title = EXCLUDED.title, description = EXCLUDED.description,
                labels = EXCLUDED.labels, annotations = EXCLUDED.annotations,
                agent_metadata = COALESCE(EXCLUDED.agent_metadata, a.agent_metadata), updated_at = now()
            RETURNING id, fingerprint, (xmax = 0)
            """, logger: logger)
        var ids: [String: (UUID, inserted: Bool)] = [:]
        for try await (id, fingerprint, inserted) in result.decode((UUID, String, Bool).self) { ids[fingerprint] = (id, inserted) }
        return ids
    }

    /// Moves the open alerts of these fingerprints to `status`; returns fingerprint → alert id of those that changed.
    func transition(_ events: [AlertEvent], to status: AlertStatus, on connection: PostgresConnection) async throws -> [String: UUID] {
        let fromStatuses = status == .acknowledged ? ["firing"] : ["firing", "acknowledged"]
        let rows = try await connection.query("""
            UPDATE alerts a SET status = \(status.rawValue), updated_at = now(),
                acknowledged_at = CASE WHEN \(status.rawValue) = 'acknowledged' THEN now() ELSE a.acknowledged_at END,
                acknowledged_by = CASE WHEN \(status.rawValue) = 'acknowledged' THEN e.actor ELSE a.acknowledged_by END,
                resolved_at = CASE WHEN \(status.rawValue) = 'resolved' THEN now() ELSE a.resolved_at END,
                resolved_by = CASE WHEN \(status.rawValue) = 'resolved' THEN e.actor ELSE a.resolved_by END
            FROM unnest(\(events.map(\.fingerprint))::text[], \(events.map(\.actor))::text[]) AS e(fp, actor)
            WHERE a.fingerprint = e.fp AND a.status = ANY(\(fromStatuses)::text[])
              AND a.id IN (SELECT id FROM alerts WHERE fingerprint = ANY(\(events.map(\.fingerprint))::text[])
                           AND status = ANY(\(fromStatuses)::text[]) ORDER BY fingerprint FOR UPDATE)
            RETURNING a.id, a.fingerprint
            """, logger: logger)
        var changed: [String: UUID] = [:]
        for try await (id, fingerprint) in rows.decode((UUID, String).self) { changed[fingerprint] = id }
        return changed
    }

    /// Attaches known solutions to new alerts: first an entry listing the alert's fingerprint, then the best full-text
    /// match of its title and description above `textMatchThreshold`. Returns how many alerts were enriched.
    func enrich(_ ids: [UUID], on connection: PostgresConnection) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        let byFingerprint = try await connection.query("""
            WITH m AS (
                SELECT DISTINCT ON (a.id) a.id AS alert_id, i.id, i.solution, i.runbook_id
                FROM alerts a JOIN incidents i ON i.fingerprints @> ARRAY[a.fingerprint]
                WHERE a.id = ANY(\(ids)::uuid[]) AND i.merged_into_id IS NULL AND i.archived_at IS NULL
                ORDER BY a.id, i.resolution_count DESC, i.updated_at DESC
            )
            UPDATE alerts a SET matched_incident_id = m.id, suggested_solution = NULLIF(m.solution, ''), enrichment_source = 'kb_fingerprint',
                runbook_url = COALESCE(a.runbook_url, '/api/v1/runbooks/' || m.runbook_id)
            FROM m WHERE a.id = m.alert_id
            RETURNING a.id
            """, logger: logger)
        var count = 0
        for try await _ in byFingerprint { count += 1 }
        let byText = try await connection.query("""
            WITH m AS (
                SELECT a.id AS alert_id, best.id, best.solution, best.runbook_id
                FROM alerts a
                CROSS JOIN LATERAL (
                    SELECT i.id, i.solution, i.runbook_id, ts_rank(i.search_vector, q.ts, 32) AS rank
                    FROM (SELECT nullif(replace(plainto_tsquery('english', left(a.title || ' ' || a.description, 600))::text, '&', '|'), '')::tsquery AS ts) q,
                         incidents i
                    WHERE q.ts IS NOT NULL AND i.search_vector @@ q.ts AND i.merged_into_id IS NULL AND i.archived_at IS NULL
                    ORDER BY rank DESC LIMIT 1
                ) best
                WHERE a.id = ANY(\(ids)::uuid[]) AND a.matched_incident_id IS NULL AND best.rank >= \(Self.textMatchThreshold)
            )
            UPDATE alerts a SET matched_incident_id = m.id, suggested_solution = NULLIF(m.solution, ''), enrichment_source = 'kb_text',
                runbook_url = COALESCE(a.runbook_url, '/api/v1/runbooks/' || m.runbook_id)
            FROM m WHERE a.id = m.alert_id
            RETURNING a.id
            """, logger: logger)
        for try await _ in byText { count += 1 }
        return count
    }

    /// Fills the service of new alerts that named none from a known service with the same cluster and namespace.
    func assignServices(_ ids: [UUID], on connection: PostgresConnection) async throws {
        guard !ids.isEmpty else { return }
        try await connection.query("""
            UPDATE alerts a SET service = s.name FROM services s
            WHERE a.id = ANY(\(ids)::uuid[]) AND a.service IS NULL AND s.cluster = a.cluster AND s.namespace = a.namespace
            """, logger: logger)
    }

    /// What an agent resolved teaches the knowledge base: the matching entry counts one more resolution, or a new entry
    /// records the agent's action as the solution.
    func learnFromAgent(alertID: UUID, event: AlertEvent, agent: AgentMetadata, on connection: PostgresConnection) async throws {
        let rows = try await connection.query("""
            WITH hit AS (
                SELECT id FROM incidents WHERE fingerprints @> ARRAY[\(event.fingerprint)::text] AND merged_into_id IS NULL AND archived_at IS NULL
                ORDER BY resolution_count DESC LIMIT 1
            ), bumped AS (
                UPDATE incidents i SET resolution_count = i.resolution_count + 1, last_seen_at = now(), updated_at = now()
                FROM hit WHERE i.id = hit.id RETURNING i.id
            ), created AS (
                INSERT INTO incidents (title, fingerprints, severity, services, clusters, namespaces, tags, symptoms, solution,
                                       created_by, resolution_count, last_seen_at)
                SELECT \(event.title), ARRAY[\(event.fingerprint)::text], \(event.severity.rawValue),
                       \(event.service.map { [$0] } ?? [])::text[], \(event.cluster.map { [$0] } ?? [])::text[],
                       \(event.namespace.map { [$0] } ?? [])::text[], ARRAY['agent-resolved'], \(String(event.description.prefix(20_000))),
                       \(String((agent.actionTaken ?? "").prefix(20_000))), \("agent:" + agent.agentID), 1, now()
                WHERE NOT EXISTS (SELECT 1 FROM hit)
                RETURNING id
            )
            SELECT id FROM bumped UNION ALL SELECT id FROM created
            """, logger: logger)
        var incidentID: UUID?
        for try await id in rows.decode(UUID.self) { incidentID = id }
        if let incidentID {
            try await connection.query("""
                UPDATE alerts SET matched_incident_id = \(incidentID), enrichment_source = 'agent',
                    suggested_solution = \(agent.actionTaken) WHERE id = \(alertID)
                """, logger: logger)
        }
    }

    /// Tells listeners (the escalation engine) what happened, when the transaction commits. An acknowledgement or a
    /// resolution also ends the alerts' escalation and cancels their unsent messages in the same transaction (but not
    /// the updates of their Slack messages that say so, migration 0015, nor the notes in their threads, 0017).
    func notify(tenant: TenantSlug, event: String, ids: [UUID], on connection: PostgresConnection) async throws {
        if event == "acknowledged" || event == "resolved", !ids.isEmpty {
            try await connection.query("""
                UPDATE escalation_state SET finished_at = now(), finish_reason = \(event) WHERE alert_id = ANY(\(ids)) AND finished_at IS NULL
                """, logger: logger)
            try await connection.query("""
                UPDATE notification_outbox SET status = 'cancelled', last_error = 'the alert was ' || \(event)
                WHERE alert_id = ANY(\(ids)) AND status = 'pending'
                  AND NOT (payload ? 'slack_update' OR payload ? 'slack_thread')
                """, logger: logger)
        }
        for chunk in stride(from: 0, to: ids.count, by: 100).map({ Array(ids[$0..<min($0 + 100, ids.count)]) }) {
            let payload = JSONValue.object([
                "tenant": .string(tenant.value), "event": .string(event),
                "alert_ids": .array(chunk.map { .string($0.text(lowercase: true)) }),
            ]).jsonText()
            try await connection.query("SELECT pg_notify(\(AlertStore.channel), \(payload))", logger: logger)
        }
    }

    /// The PostgreSQL channel of alert events.
    static let channel = "nightowl_alert_events"
}
