import Foundation
import Hummingbird
import OwlCore
import PostgresNIO

/// The knowledge base in the console: search with highlights (or the latest entries, filtered), and an entry's page
/// with every field, the alerts it matched, and its history.
struct KnowledgePages {
    let platform: Platform
    let console: Console
    var store: IncidentStore { IncidentStore(logger: platform.logger) }
    static let pageSize = 20
    /// An entry's page shows this many of its newest changes (a busy entry records one per resolution).
    static let historyShown = 50

    func register(on routes: OwlRouter) {
        routes.page(.get, "/knowledge", .readonly, inAPI: false, list)
        routes.page(.get, "/knowledge/{id}", .readonly, inAPI: false, entry)
    }

    /// `q` searches (ranked, with the matching words marked); without it, the latest entries. Severity, category,
    /// service and tag narrow either: in SQL for the list, and over the best 200 hits for a search (the ranked search
    /// pages in the database, before any filter).
    @Sendable func list(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let viewer = try await console.viewer(principal)
        let query = Query(request)
        let offset = max(0, min(Int(query["offset"] ?? "") ?? 0, 10_000))
        let page = OffsetPage(limit: Self.pageSize, offset: offset)
        let severity = query["severity"].flatMap(Severity.init(rawValue:))
        let filter = IncidentStore.Filter(severities: severity.map { [$0.rawValue] } ?? [], category: query.text("category"), service: query.text("service"),
                                          tags: query.text("tag").map { [$0] } ?? [])
        var problem: String?
        var searchText: String?
        if let raw = query["q"], !raw.trimmingCharacters(in: .whitespaces).isEmpty {
            do { searchText = try IncidentSearch.sanitize(raw) } catch let error as APIError { problem = error.message }
        }
        let narrowed = filter.severities.isEmpty && filter.category == nil && filter.service == nil && filter.tags.isEmpty
        let (listed, found, count, categories) = try await platform.database.withTenant(principal.tenant.slug) {
            connection -> ([Incident], [IncidentSearchResult], Int, [String]) in
            let categories = try await store.categories(on: connection)
            guard let searchText else {
                let (listed, count) = try await store.list(filter, page: page, on: connection)
                return (listed, [], count, categories)
            }
            let (found, count) = try await store.search(searchText, page: narrowed ? page : OffsetPage(limit: 200, offset: 0), includeArchived: false,
                                                        tenant: principal.tenant.slug, on: connection)
            return ([], found, count, categories)
        }
        let kept = narrowed ? found : found.filter { filter.admits($0.base) }
        let shown = narrowed ? kept : Array(kept.dropFirst(offset).prefix(Self.pageSize))
        let total = searchText == nil || narrowed ? count : kept.count
        let rows = listed.map { Self.summary($0, time: viewer.time) } + shown.map { result in
            var values = Self.summary(result.base, time: viewer.time)
            values["highlights"] = result.extra.highlights.sorted { $0.key < $1.key }.map { field, html in
                ["field": field.replacingOccurrences(of: "_", with: " "), "segments": HighlightSegments.split(html)]
            }
            return values
        }
        func link(_ offset: Int) -> String {
            var items: [(String, String)] = []
            if let searchText { items.append(("q", searchText)) }
            if let severity { items.append(("severity", severity.rawValue)) }
            for name in ["category", "service", "tag"] { if let value = query.text(name) { items.append((name, value)) } }
            if offset > 0 { items.append(("offset", String(offset))) }
            return Console.link("/knowledge", items)
        }
        let category = query.text("category") ?? ""
        let values: [String: Any] = [
            "entries": rows, "empty": rows.isEmpty, "total": total, "searching": searchText != nil, "q": searchText ?? "", "problem": problem ?? false,
            "severities": ([("", "Any severity")] + Severity.allCases.map { ($0.rawValue, $0.rawValue.capitalized) })
                .map { ["value": $0.0, "label": $0.1, "selected": $0.0 == (severity?.rawValue ?? "")] },
            "categories": ([("", "Any category")] + categories.map { ($0, $0) }).map { ["value": $0.0, "label": $0.1, "selected": $0.0 == category] },
            "service": query.text("service") ?? "", "tag": query.text("tag") ?? "",
            "next": offset + Self.pageSize < total ? link(offset + Self.pageSize) : false,
            "previous": offset > 0 ? link(max(offset - Self.pageSize, 0)) : false,
        ]
        return try console.page("knowledge", title: "Knowledge base", section: "knowledge", viewer: viewer, request: request,
                                values: values, query: searchText)
    }

    static func summary(_ incident: Incident, time: ConsoleTime) -> [String: Any] {
        ["id": incident.id.uuidString.lowercased(), "title": incident.title, "severity": incident.severity.rawValue,
         "category": incident.category, "services": incident.services.joined(separator: ", "), "hasServices": !incident.services.isEmpty,
         "resolutions": incident.resolutionCount, "updated": time.value(incident.updatedAt)]
    }

    /// Every field of an entry, the alerts it matched (latest first) and its history.
    @Sendable func entry(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let viewer = try await console.viewer(principal)
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { return try notFound(request, viewer) }
        let loaded = try await platform.database.withTenant(principal.tenant.slug) { connection -> (Incident, [Alert], [IncidentHistoryEntry], Runbook?)? in
            guard let incident = try await store.get(id, on: connection) else { return nil }
            let runbook = try await incident.runbookID.asyncFlatMap { try await RunbookStore(logger: platform.logger).get($0, on: connection) }
            var alerts: [Alert] = []
            for try await row in try await connection.query("""
                SELECT \(unescaped: AlertStore.columns) FROM alerts WHERE matched_incident_id = \(id) ORDER BY last_fired_at DESC, id DESC LIMIT 20
                """, logger: platform.logger) { alerts.append(try AlertStore.decode(row)) }
            return (incident, alerts, try await store.history(id, latest: Self.historyShown + 1, on: connection), runbook)
        }
        guard let (incident, alerts, history, runbook) = loaded else { return try notFound(request, viewer) }
        var values = Self.summary(incident, time: viewer.time)
        let lists: [(String, [String])] = [("Fingerprints", incident.fingerprints), ("Services", incident.services), ("Clusters", incident.clusters),
                                           ("Namespaces", incident.namespaces), ("Tags", incident.tags), ("Error patterns", incident.errorPatterns)]
        values["lists"] = lists.filter { !$0.1.isEmpty }.map { ["label": $0.0, "items": $0.1] }
        for (key, text) in [("symptoms", incident.symptoms), ("rootCause", incident.rootCause), ("solution", incident.solution)] {
            values[key] = text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? false : ["bodyHTML": Markdown.trusted(text, headingOffset: 2)]
        }
        values["runbook"] = runbook.map { ["id": $0.id.uuidString.lowercased(), "title": $0.title] } ?? false
        values["editable"] = principal.role >= .engineer && incident.mergedIntoID == nil
        values["archivable"] = principal.role >= .engineer && incident.mergedIntoID == nil && incident.archivedAt == nil
        values["archived"] = incident.archivedAt != nil
        values["mergedInto"] = incident.mergedIntoID.map { $0.uuidString.lowercased() } ?? false
        values["lastSeen"] = viewer.time.value(incident.lastSeenAt)
        values["alerts"] = alerts.map { AlertView.row($0, time: viewer.time, canAct: false) }
        values["hasAlerts"] = !alerts.isEmpty
        values["history"] = KnowledgeHistory.values(Array(history.suffix(Self.historyShown)), time: viewer.time)
        values["historyCut"] = history.count > Self.historyShown ? ["shown": Self.historyShown, "path": "/api/v1/incidents/\(incident.id.uuidString.lowercased())/history"] : false
        let flash = ConsoleFlash.read(request)
        values["flash"] = flash?.values ?? false
        return ConsoleFlash.consumed(try console.page("entry", title: incident.title, section: "knowledge", viewer: viewer, request: request,
                                                      values: values), flash)
    }

    func notFound(_ request: Request, _ viewer: ConsoleViewer) throws -> Response {
        try console.notFound("knowledge-base entry", back: "/knowledge", section: "knowledge", viewer: viewer, request: request)
    }
}

/// A search highlight (HTML-escaped text with `<mark>` around matches, as the API gives it) as pieces a template
/// shows escaped again: plain text and marked text, never markup.
enum HighlightSegments {
    static func split(_ html: String) -> [[String: Any]] {
        var segments: [[String: Any]] = []
        var marked = false
        var rest = Substring(html)
        while !rest.isEmpty {
            let tag = marked ? "</mark>" : "<mark>"
            let end = rest.range(of: tag)
            let piece = rest[..<(end?.lowerBound ?? rest.endIndex)]
            if !piece.isEmpty { segments.append(["text": unescape(piece), "marked": marked]) }
            guard let end else { break }
            rest = rest[end.upperBound...]
            marked.toggle()
        }
        return segments
    }

    static func unescape(_ text: Substring) -> String { HTML.unescape(String(text)) }
}
