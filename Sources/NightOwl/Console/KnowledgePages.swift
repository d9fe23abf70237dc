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

    func register(on routes: OwlRouter) {
        routes.page(.get, "/knowledge", .readonly, inAPI: false, list)
        routes.page(.get, "/knowledge/{id}", .readonly, inAPI: false, entry)
    }

    /// `q` searches (ranked, with the matching words marked); without it, the latest entries by severity and service.
    @Sendable func list(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let viewer = try await console.viewer(principal)
        let query = Query(request)
        let offset = max(0, min(Int(query["offset"] ?? "") ?? 0, 10_000))
        let page = OffsetPage(limit: Self.pageSize, offset: offset)
        let severity = query["severity"].flatMap(Severity.init(rawValue:))
        let service = query["service"].map { String($0.prefix(200)) }
        var problem: String?
        var text: String?
        if let raw = query["q"] {
            do { text = try IncidentSearch.sanitize(raw) } catch let error as APIError { problem = error.message }
        }
        let (rows, total): ([[String: Any]], Int)
        if let text {
            let (found, count) = try await platform.database.withConnection {
                try await store.search(text, page: page, includeArchived: false, tenant: principal.tenant.slug, on: $0)
            }
            rows = found.map { result in
                var values = Self.summary(result.base, time: viewer.time)
                values["highlights"] = result.extra.highlights.sorted { $0.key < $1.key }.map { field, html in
                    ["field": field.replacingOccurrences(of: "_", with: " "), "segments": HighlightSegments.split(html)]
                }
                return values
            }
            total = count
        } else {
            let filter = IncidentStore.Filter(severities: severity.map { [$0.rawValue] } ?? [], service: service)
            let (found, count) = try await platform.database.withTenant(principal.tenant.slug) { try await store.list(filter, page: page, on: $0) }
            rows = found.map { Self.summary($0, time: viewer.time) }
            total = count
        }
        func link(_ offset: Int) -> String {
            var items: [(String, String)] = []
            if let text { items.append(("q", text)) }
            if let severity { items.append(("severity", severity.rawValue)) }
            if let service { items.append(("service", service)) }
            if offset > 0 { items.append(("offset", String(offset))) }
            return "/knowledge" + (items.isEmpty ? "" : "?" + items.map { "\($0.0)=\(FormEncoding.escape($0.1))" }.joined(separator: "&"))
        }
        let values: [String: Any] = [
            "entries": rows, "empty": rows.isEmpty, "total": total, "searching": text != nil, "q": text ?? "", "problem": problem ?? false,
            "severities": ([("", "Any severity")] + Severity.allCases.map { ($0.rawValue, $0.rawValue.capitalized) })
                .map { ["value": $0.0, "label": $0.1, "selected": $0.0 == (severity?.rawValue ?? "")] },
            "service": service ?? "",
            "next": offset + Self.pageSize < total ? link(offset + Self.pageSize) : false,
            "previous": offset > 0 ? link(max(offset - Self.pageSize, 0)) : false,
        ]
        return try console.page("knowledge", title: "Knowledge base", section: "knowledge", viewer: viewer, request: request,
                                values: values, query: text)
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
        let loaded = try await platform.database.withTenant(principal.tenant.slug) { connection -> (Incident, [Alert], [IncidentHistoryEntry])? in
            guard let incident = try await store.get(id, on: connection) else { return nil }
            var alerts: [Alert] = []
            for try await row in try await connection.query("""
                SELECT \(unescaped: AlertStore.columns) FROM alerts WHERE matched_incident_id = \(id) ORDER BY last_fired_at DESC, id DESC LIMIT 20
                """, logger: platform.logger) { alerts.append(try AlertStore.decode(row)) }
            return (incident, alerts, try await store.history(id, on: connection))
        }
        guard let (incident, alerts, history) = loaded else { return try notFound(request, viewer) }
        var values = Self.summary(incident, time: viewer.time)
        let lists: [(String, [String])] = [("Fingerprints", incident.fingerprints), ("Services", incident.services), ("Clusters", incident.clusters),
                                           ("Namespaces", incident.namespaces), ("Tags", incident.tags), ("Error patterns", incident.errorPatterns)]
        values["lists"] = lists.filter { !$0.1.isEmpty }.map { ["label": $0.0, "items": $0.1] }
        for (key, text) in [("symptoms", incident.symptoms), ("rootCause", incident.rootCause), ("solution", incident.solution)] {
            values[key] = text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? false : text
        }
        values["archived"] = incident.archivedAt != nil
        values["mergedInto"] = incident.mergedIntoID.map { $0.uuidString.lowercased() } ?? false
        values["lastSeen"] = viewer.time.value(incident.lastSeenAt)
        values["alerts"] = alerts.map { AlertView.values($0, time: viewer.time) }
        values["hasAlerts"] = !alerts.isEmpty
        values["history"] = history.reversed().map { entry -> [String: Any] in
            let fields = (entry.diff.objectValue ?? [:]).keys.sorted().map { $0.replacingOccurrences(of: "_", with: " ") }.joined(separator: ", ")
            return ["change": entry.changeType, "by": entry.changedBy, "at": viewer.time.value(entry.createdAt), "fields": fields.isEmpty ? false : fields]
        }
        let flash = ConsoleFlash.read(request)
        values["flash"] = flash?.values ?? false
        return ConsoleFlash.consumed(try console.page("entry", title: incident.title, section: "knowledge", viewer: viewer, request: request,
                                                      values: values), flash)
    }

    func notFound(_ request: Request, _ viewer: ConsoleViewer) throws -> Response {
        try console.page("not-found", title: "Not found", section: "knowledge", viewer: viewer, request: request,
                         values: ["what": "knowledge-base entry", "back": "/knowledge"], status: .notFound)
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

    static func unescape(_ text: Substring) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
    }
}
