import Foundation
import Hummingbird
import OwlCore
import PostgresNIO

/// Runbooks in the console: the list (the seven Kubernetes templates first, then the team's own; filtered by text,
/// category and tag) and a runbook's page, its Markdown rendered with a table of contents and the knowledge-base
/// entries that point to it.
struct RunbookPages {
    let platform: Platform
    let console: Console
    var store: RunbookStore { RunbookStore(logger: platform.logger) }
    static let pageSize = 50

    func register(on routes: OwlRouter) {
        routes.page(.get, "/runbooks", .readonly, inAPI: false, list)
        routes.page(.get, "/runbooks/{id}", .readonly, inAPI: false, runbook)
    }

    /// The runbooks, filtered.
    @Sendable func list(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let viewer = try await console.viewer(principal)
        let query = Query(request)
        let kind = query["kind"] ?? ""
        let filter = RunbookStore.Filter(category: query.text("category"), tag: query.text("tag"),
                                         templates: kind == "templates" ? true : kind == "own" ? false : nil, text: query.text("q"))
        let offset = max(0, min(Int(query["offset"] ?? "") ?? 0, 10_000))
        let (runbooks, total) = try await platform.database.withTenant(principal.tenant.slug) {
            try await store.list(filter, page: OffsetPage(limit: Self.pageSize, offset: offset), on: $0)
        }
        func link(_ offset: Int) -> String {
            var items: [(String, String)] = []
            for name in ["q", "category", "tag"] { if let value = query.text(name) { items.append((name, value)) } }
            if !kind.isEmpty { items.append(("kind", kind)) }
            if offset > 0 { items.append(("offset", String(offset))) }
            return Console.link("/runbooks", items)
        }
        let values: [String: Any] = [
            "runbooks": runbooks.map { ["id": $0.id.uuidString.lowercased(), "title": $0.title, "category": $0.category,
                                        "tags": $0.tags, "template": $0.isTemplate, "updated": viewer.time.value($0.updatedAt)] },
            "empty": runbooks.isEmpty, "total": total, "q": query.text("q") ?? "", "category": query.text("category") ?? "", "tag": query.text("tag") ?? "",
            "kinds": [("", "All"), ("templates", "Templates"), ("own", "Our own")].map { ["value": $0.0, "label": $0.1, "selected": $0.0 == kind] },
            "next": offset + Self.pageSize < total ? link(offset + Self.pageSize) : false,
            "previous": offset > 0 ? link(max(offset - Self.pageSize, 0)) : false,
        ]
        return try console.page("runbooks", title: "Runbooks", section: "runbooks", viewer: viewer, request: request, values: values)
    }

    /// One runbook, rendered.
    @Sendable func runbook(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let viewer = try await console.viewer(principal)
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { return try notFound(request, viewer) }
        let loaded = try await platform.database.withTenant(principal.tenant.slug) { connection -> (Runbook, [Incident])? in
            guard let runbook = try await store.get(id, on: connection) else { return nil }
            var entries: [Incident] = []
            for try await row in try await connection.query("""
                SELECT \(unescaped: IncidentStore.columns) FROM incidents
                WHERE runbook_id = \(id) AND merged_into_id IS NULL AND archived_at IS NULL ORDER BY updated_at DESC LIMIT 20
                """, logger: platform.logger) { entries.append(try IncidentStore.decode(row)) }
            return (runbook, entries)
        }
        guard let (runbook, entries) = loaded else { return try notFound(request, viewer) }
        let headings = Markdown.headings(runbook.content).filter { $0.level <= 3 }
        let values: [String: Any] = [
            "title": runbook.title, "category": runbook.category, "tags": runbook.tags, "template": runbook.isTemplate,
            "updated": viewer.time.value(runbook.updatedAt), "bodyHTML": Markdown.trusted(runbook.content, headingOffset: 1),
            "contents": headings.map { ["text": $0.text, "anchor": $0.anchor, "deep": $0.level > 1] }, "hasContents": headings.count > 2,
            "entries": entries.map { KnowledgePages.summary($0, time: viewer.time) }, "hasEntries": !entries.isEmpty,
        ]
        return try console.page("runbook", title: runbook.title, section: "runbooks", viewer: viewer, request: request, values: values)
    }

    func notFound(_ request: Request, _ viewer: ConsoleViewer) throws -> Response {
        try console.notFound("runbook", back: "/runbooks", section: "runbooks", viewer: viewer, request: request)
    }
}
