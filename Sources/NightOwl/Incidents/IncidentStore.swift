import Foundation
import OwlCore
import PostgresNIO

/// SQL for `incidents` and `incident_history`. Every method runs on a tenant connection.
struct IncidentStore {
    let logger: Logger

    static let columns = """
        id, title, fingerprints, severity, category, services, clusters, namespaces, tags, symptoms, error_patterns,
        root_cause, solution, runbook_id, created_by, resolution_count, last_seen_at, merged_into_id, merged_from_ids,
        archived_at, created_at, updated_at
        """

    static let qualifiedColumns = columns.split(separator: ",").map { "i." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        .joined(separator: ", ")

    static func decode(_ row: PostgresRow) throws -> Incident {
        let r = row.makeRandomAccess()
        return Incident(
            id: try r[0].decode(UUID.self), title: try r[1].decode(String.self), fingerprints: try r[2].decode([String].self),
            severity: Severity(rawValue: try r[3].decode(String.self)) ?? .info, category: try r[4].decode(String.self),
            services: try r[5].decode([String].self), clusters: try r[6].decode([String].self), namespaces: try r[7].decode([String].self),
            tags: try r[8].decode([String].self), symptoms: try r[9].decode(String.self), errorPatterns: try r[10].decode([String].self),
            rootCause: try r[11].decode(String.self), solution: try r[12].decode(String.self), runbookID: try r[13].decode(UUID?.self),
            createdBy: try r[14].decode(String.self), resolutionCount: try r[15].decode(Int.self), lastSeenAt: try r[16].decode(Date?.self),
            mergedIntoID: try r[17].decode(UUID?.self), mergedFromIDs: try r[18].decode([UUID].self), archivedAt: try r[19].decode(Date?.self),
            createdAt: try r[20].decode(Date.self), updatedAt: try r[21].decode(Date.self))
    }

    func create(_ input: IncidentInput, by actor: String, on connection: PostgresConnection) async throws -> Incident {
        do {
            let rows = try await connection.query("""
                INSERT INTO incidents (title, fingerprints, severity, category, services, clusters, namespaces, tags, symptoms,
                                       error_patterns, root_cause, solution, runbook_id, created_by)
                VALUES (\(input.title ?? ""), \(input.fingerprints ?? []), \(input.severity?.rawValue ?? "info"), \(input.category ?? ""),
                        \(input.services ?? []), \(input.clusters ?? []), \(input.namespaces ?? []), \(input.tags ?? []),
                        \(input.symptoms ?? ""), \(input.errorPatterns ?? []), \(input.rootCause ?? ""), \(input.solution ?? ""),
                        \(input.runbookID), \(actor))
                RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            for try await row in rows { return try Self.decode(row) }
        } catch where PostgresErrorCode.isForeignKeyViolation(error) {
            throw APIError.validation("runbook_id names no runbook", field: "runbook_id")
        }
        throw APIError.conflict("the incident could not be stored")
    }

    func get(_ id: UUID, lock: Bool = false, on connection: PostgresConnection) async throws -> Incident? {
        let rows = try await connection.query(
            "SELECT \(unescaped: Self.columns) FROM incidents WHERE id = \(id) \(unescaped: lock ? "FOR UPDATE" : "")", logger: logger)
        for try await row in rows { return try Self.decode(row) }
        return nil
    }

    struct Filter {
        var severities: [String] = []
        var category: String?
        var service: String?
        var tags: [String] = []
        var includeArchived = false

        /// The same test in Swift, for search results (which the database ranks and pages first).
        func admits(_ incident: Incident) -> Bool {
            (severities.isEmpty || severities.contains(incident.severity.rawValue)) && (category.map { $0 == incident.category } ?? true)
                && (service.map { incident.services.contains($0) } ?? true) && Set(tags).isSubset(of: incident.tags)
                && (includeArchived || incident.archivedAt == nil)
        }
    }

    /// The categories of live entries, for the console's filter.
    func categories(on connection: PostgresConnection) async throws -> [String] {
        let rows = try await connection.query("""
            SELECT DISTINCT category FROM incidents WHERE merged_into_id IS NULL AND archived_at IS NULL AND category <> ''
            ORDER BY category LIMIT 200
            """, logger: logger)
        var categories: [String] = []
        for try await category in rows.decode(String.self) { categories.append(category) }
        return categories
    }

    /// Live entries (not merged away; not archived unless asked), most recently changed first.
    func list(_ filter: Filter, page: OffsetPage, on connection: PostgresConnection) async throws -> ([Incident], Int) {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns), count(*) OVER () FROM incidents
            WHERE merged_into_id IS NULL AND (\(filter.includeArchived) OR archived_at IS NULL)
              AND (cardinality(\(filter.severities)::text[]) = 0 OR severity = ANY(\(filter.severities)::text[]))
              AND (\(filter.category)::text IS NULL OR category = \(filter.category))
              AND (\(filter.service)::text IS NULL OR services @> ARRAY[\(filter.service)::text])
              AND (cardinality(\(filter.tags)::text[]) = 0 OR tags @> \(filter.tags)::text[])
            ORDER BY updated_at DESC, id DESC
            LIMIT \(page.limit) OFFSET \(page.offset)
            """, logger: logger)
        let (items, total) = try await rows.page(Self.decode)
        return (items, total)
    }

    /// The live entry that lists this fingerprint.
    func byFingerprint(_ fingerprint: String, on connection: PostgresConnection) async throws -> Incident? {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM incidents
            WHERE fingerprints @> ARRAY[\(fingerprint)::text] AND merged_into_id IS NULL AND archived_at IS NULL
            ORDER BY resolution_count DESC, updated_at DESC LIMIT 1
            """, logger: logger)
        for try await row in rows { return try Self.decode(row) }
        return nil
    }

    /// Changes the fields present. The history trigger records what changed.
    func update(_ id: UUID, _ input: IncidentInput, on connection: PostgresConnection) async throws -> Incident? {
        do {
            let rows = try await connection.query("""
                UPDATE incidents SET
                    title = COALESCE(\(input.title), title), fingerprints = COALESCE(\(input.fingerprints), fingerprints),
                    severity = COALESCE(\(input.severity?.rawValue), severity), category = COALESCE(\(input.category), category),
                    services = COALESCE(\(input.services), services), clusters = COALESCE(\(input.clusters), clusters),
                    namespaces = COALESCE(\(input.namespaces), namespaces), tags = COALESCE(\(input.tags), tags),
                    symptoms = COALESCE(\(input.symptoms), symptoms), error_patterns = COALESCE(\(input.errorPatterns), error_patterns),
                    root_cause = COALESCE(\(input.rootCause), root_cause), solution = COALESCE(\(input.solution), solution),
                    runbook_id = CASE WHEN \(input.clearsRunbook) THEN NULL ELSE COALESCE(\(input.runbookID), runbook_id) END,
                    updated_at = now()
                WHERE id = \(id) AND merged_into_id IS NULL
                RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            for try await row in rows { return try Self.decode(row) }
        } catch where PostgresErrorCode.isForeignKeyViolation(error) {
            throw APIError.validation("runbook_id names no runbook", field: "runbook_id")
        }
        return nil
    }

    func archive(_ id: UUID, on connection: PostgresConnection) async throws -> Incident? {
        try await setChangeType("archived", on: connection)
        let rows = try await connection.query("""
            UPDATE incidents SET archived_at = COALESCE(archived_at, now()), updated_at = now()
            WHERE id = \(id) AND merged_into_id IS NULL RETURNING \(unescaped: Self.columns)
            """, logger: logger)
        for try await row in rows { return try Self.decode(row) }
        return nil
    }

    /// Writes a merge computed by `IncidentMerge`; returns how many alerts were re-pointed.
    func applyMerge(_ merge: IncidentMerge, target: UUID, source: UUID, on connection: PostgresConnection) async throws -> Int {
        try await setChangeType("merged_from", on: connection)
        try await connection.query("""
            UPDATE incidents SET fingerprints = \(merge.fingerprints), services = \(merge.services), clusters = \(merge.clusters),
                namespaces = \(merge.namespaces), tags = \(merge.tags), error_patterns = \(merge.errorPatterns),
                symptoms = \(merge.symptoms), root_cause = \(merge.rootCause), solution = \(merge.solution),
                runbook_id = \(merge.runbookID), severity = \(merge.severity.rawValue), resolution_count = \(merge.resolutionCount),
                last_seen_at = \(merge.lastSeenAt), merged_from_ids = \(merge.mergedFromIDs), updated_at = now()
            WHERE id = \(target)
            """, logger: logger)
        try await setChangeType("merged_into", on: connection)
        // Entries merged into the source earlier follow it, so no chain ever points at a merged entry.
        try await connection.query("""
            UPDATE incidents SET merged_into_id = \(target), updated_at = now() WHERE id = \(source) OR merged_into_id = \(source)
            """, logger: logger)
        try await setChangeType("", on: connection)
        let rows = try await connection.query(
            "WITH moved AS (UPDATE alerts SET matched_incident_id = \(target), updated_at = now() WHERE matched_incident_id = \(source) RETURNING 1) SELECT count(*) FROM moved",
            logger: logger)
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    /// The entry's changes, oldest first; with `latest`, only that many of the newest.
    func history(_ id: UUID, latest: Int? = nil, on connection: PostgresConnection) async throws -> [IncidentHistoryEntry] {
        let rows = try await connection.query("""
            SELECT * FROM (
                SELECT id, change_type, changed_by, diff::text, created_at FROM incident_history
                WHERE incident_id = \(id) ORDER BY created_at DESC, id DESC LIMIT \(latest)
            ) AS newest ORDER BY created_at, id
            """, logger: logger)
        var entries: [IncidentHistoryEntry] = []
        for try await (id, type, by, diff, created) in rows.decode((UUID, String, String, String, Date).self) {
            entries.append(IncidentHistoryEntry(id: id, changeType: type, changedBy: by, diff: JSONValue.parse(diff) ?? .null, createdAt: created))
        }
        return entries
    }

    /// Ranked search in one statement outside any transaction: the tenant schema's `incident_search_hits` (migration
    /// 0011) turns the text into a tsquery (migration 0010: websearch syntax, fragments completed to the words that
    /// exist, unknown words replaced by their nearest known words) and returns one page of ids in rank order with the
    /// total, from the per-word postings when one word decides the query, else from the GIN index. Only the page's
    /// rows are fetched in full, and a field is highlighted only when its weight in the entry's vector holds one of the
    /// query's words (migration 0012; the others would have no mark). Everything is named with the tenant's schema, so
    /// nothing is left on the pooled connection.
    func search(_ text: String, page: OffsetPage, includeArchived: Bool, tenant: TenantSlug,
                on connection: PostgresConnection) async throws -> ([IncidentSearchResult], Int) {
        let schema = tenant.quotedSchema
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.qualifiedColumns), h.hit_rank, h.hit_total,
                   CASE WHEN ts_filter(i.search_vector, '{a}') @@ h.hit_words
                        THEN ts_headline('english', i.title, h.hit_query, \(IncidentSearch.headlineOptions + ", HighlightAll=true")) END,
                   CASE WHEN ts_filter(i.search_vector, '{b}') @@ h.hit_words
                        THEN ts_headline('english', i.symptoms, h.hit_query, \(IncidentSearch.headlineOptions)) END,
                   CASE WHEN ts_filter(i.search_vector, '{b}') @@ h.hit_words
                        THEN ts_headline('english', i.root_cause, h.hit_query, \(IncidentSearch.headlineOptions)) END,
                   CASE WHEN ts_filter(i.search_vector, '{c}') @@ h.hit_words
                        THEN ts_headline('english', i.solution, h.hit_query, \(IncidentSearch.headlineOptions)) END,
                   CASE WHEN ts_filter(i.search_vector, '{a}') @@ h.hit_words
                        THEN ts_headline('english', array_to_string(i.error_patterns, ' | '), h.hit_query, \(IncidentSearch.headlineOptions)) END
            FROM \(unescaped: schema).incident_search_hits(\(text), \(includeArchived), \(page.limit), \(page.offset))
                 WITH ORDINALITY AS h(hit_id, hit_rank, hit_total, hit_query, hit_words, position)
            LEFT JOIN \(unescaped: schema).incidents i ON i.id = h.hit_id
            ORDER BY h.position
            """, logger: logger)
        var results: [IncidentSearchResult] = []
        var total = 0
        for try await row in rows {
            let r = row.makeRandomAccess()
            total = try r[23].decode(Int.self)
            // A page past the end is one row that carries only the count.
            guard try r[0].decode(UUID?.self) != nil else { continue }
            var highlights: [String: String] = [:]
            for (index, field) in [(24, "title"), (25, "symptoms"), (26, "root_cause"), (27, "solution"), (28, "error_patterns")] {
                if let headline = try r[index].decode(String?.self), headline.utf8.contains(2) {
                    highlights[field] = IncidentSearch.highlight(headline)
                }
            }
            if highlights["title"] == nil { highlights["title"] = HTML.escape(try r[1].decode(String.self)) }
            results.append(IncidentSearchResult(incident: try Self.decode(row), rank: try r[22].decode(Double.self), highlights: highlights))
        }
        return (results, total)
    }

    private func setChangeType(_ type: String, on connection: PostgresConnection) async throws {
        try await connection.query("SELECT set_config('owl.change_type', \(type), true)", logger: logger)
    }
}
