import Foundation
import Hummingbird
import OwlCore
import PostgresNIO

/// Merging two knowledge-base entries in the console: pick the entry to merge into this one (search or the latest),
/// see what the merged entry will hold, field by field (the same rule the merge applies), and confirm.
struct KnowledgeMerge {
    let platform: Platform
    let console: Console
    var store: IncidentStore { IncidentStore(logger: platform.logger) }

    func register(on routes: OwlRouter) {
        routes.page(.get, "/knowledge/{id}/merge", .engineer, inAPI: false, choose)
        routes.page(.post, "/knowledge/{id}/merge", .engineer, inAPI: false, merge)
    }

    /// Without `source`, the entries to choose from (`q` searches); with it, what the merge will do.
    @Sendable func choose(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let viewer = try await console.viewer(principal)
        guard let targetID = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { return try notFound(request, viewer) }
        let query = Query(request)
        let sourceID = query["source"].flatMap(UUID.init(uuidString:))
        var problem: String?
        var text: String?
        if let raw = query["q"], !raw.trimmingCharacters(in: .whitespaces).isEmpty {
            do { text = try IncidentSearch.sanitize(raw) } catch let error as APIError { problem = error.message }
        }
        enum Loaded { case missing, merged(UUID), ready(Incident, Incident?, Int, [Incident], [UUID: String]) }
        let loaded = try await platform.database.withTenant(principal.tenant.slug) { connection -> Loaded in
            guard let target = try await store.get(targetID, on: connection) else { return .missing }
            if let survivor = target.mergedIntoID { return .merged(survivor) }
            var source: Incident?
            var alerts = 0
            if let sourceID, sourceID != targetID, let found = try await store.get(sourceID, on: connection), found.mergedIntoID == nil {
                source = found
                for try await count in try await connection.query("SELECT count(*) FROM alerts WHERE matched_incident_id = \(sourceID)",
                                                                  logger: platform.logger).decode(Int.self) { alerts = count }
            }
            var candidates: [Incident] = []
            if source == nil {
                if let text {
                    candidates = try await store.search(text, page: OffsetPage(limit: 20, offset: 0), includeArchived: true,
                                                        tenant: principal.tenant.slug, on: connection).0.map(\.base)
                } else {
                    candidates = try await store.list(.init(includeArchived: true), page: OffsetPage(limit: 20, offset: 0), on: connection).0
                }
            }
            var runbooks: [UUID: String] = [:]
            for id in Set([target.runbookID, source?.runbookID].compactMap { $0 }) {
                runbooks[id] = try await RunbookStore(logger: platform.logger).get(id, on: connection)?.title
            }
            return .ready(target, source, alerts, candidates.filter { $0.id != targetID }, runbooks)
        }
        switch loaded {
        case .missing:
            return try notFound(request, viewer)
        case .merged(let survivor):
            return console.redirect(to: KnowledgeEditor.path(survivor), flash: ConsoleFlash(kind: "info", ids: [], text: "That entry was merged into this one."))
        case .ready(let target, let source, let alerts, let candidates, let runbooks):
            var values: [String: Any] = [
                "targetID": target.id.uuidString.lowercased(), "targetTitle": target.title, "q": text ?? "", "problem": problem ?? false,
                "candidates": candidates.map { KnowledgePages.summary($0, time: viewer.time).merging(["archived": $0.archivedAt != nil]) { $1 } },
                "hasCandidates": !candidates.isEmpty, "searching": text != nil, "choosing": source == nil,
                "sourceGone": sourceID != nil && source == nil,
            ]
            if let source {
                values["source"] = ["id": source.id.uuidString.lowercased(), "title": source.title, "alerts": alerts, "oneAlert": alerts == 1]
                values["rows"] = Self.rows(target: target, source: source, runbooks: runbooks)
            } else {
                values["source"] = false
            }
            let flash = ConsoleFlash.read(request)
            values["flash"] = flash?.values ?? false
            return ConsoleFlash.consumed(try console.page("merge", title: "Merge into: \(target.title)", section: "knowledge", viewer: viewer,
                                                          request: request, values: values, query: text), flash)
        }
    }

    /// What the merged entry will hold, field by field, beside the two entries' own values (shortened for the table).
    static func rows(target: Incident, source: Incident, runbooks: [UUID: String] = [:]) -> [[String: Any]] {
        let merged = IncidentMerge.merge(target: target, source: source)
        func list(_ items: [String]) -> String { items.joined(separator: ", ") }
        func runbook(_ id: UUID?) -> String { id.map { runbooks[$0] ?? $0.uuidString.lowercased() } ?? "" }
        let rows: [(String, String, String, String)] = [
            ("Runbook", runbook(target.runbookID), runbook(source.runbookID), runbook(merged.runbookID)),
            ("Severity", target.severity.rawValue, source.severity.rawValue, merged.severity.rawValue),
            ("Solution", target.solution, source.solution, merged.solution),
            ("Root cause", target.rootCause, source.rootCause, merged.rootCause),
            ("Symptoms", target.symptoms, source.symptoms, merged.symptoms),
            ("Fingerprints", list(target.fingerprints), list(source.fingerprints), list(merged.fingerprints)),
            ("Error patterns", list(target.errorPatterns), list(source.errorPatterns), list(merged.errorPatterns)),
            ("Services", list(target.services), list(source.services), list(merged.services)),
            ("Clusters", list(target.clusters), list(source.clusters), list(merged.clusters)),
            ("Namespaces", list(target.namespaces), list(source.namespaces), list(merged.namespaces)),
            ("Tags", list(target.tags), list(source.tags), list(merged.tags)),
            ("Resolved", "\(target.resolutionCount) times", "\(source.resolutionCount) times", "\(merged.resolutionCount) times"),
        ]
        // Long texts are shortened for the table; whether the field changes is judged on the whole text.
        func cut(_ text: String) -> String { text.count > 280 ? String(text.prefix(280)) + "…" : text }
        return rows.filter { !($0.1.isEmpty && $0.2.isEmpty) }.map { label, kept, other, result in
            ["label": label, "target": cut(kept), "source": cut(other), "result": cut(result), "changes": result != kept]
        }
    }

    /// Merges `source_id` into this entry and shows the merged entry.
    @Sendable func merge(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let targetID = try context.uuid("id")
        let form = try await ConsoleForm.read(request, limit: platform.config.bodyLimitBytes)
        let back = "/knowledge/\(targetID.uuidString.lowercased())/merge"
        guard let sourceID = form["source_id"].flatMap(UUID.init(uuidString:)) else {
            return console.redirect(to: back, flash: ConsoleFlash(kind: "problem", ids: [], text: "Choose the entry to merge into this one."))
        }
        do {
            let result = try await IncidentService(platform: platform).merge(sourceID, into: targetID, principal, context)
            let moved = result.alertsRepointed
            let text = "Merged. " + (moved == 0 ? "No alert pointed to the other entry." : moved == 1 ? "1 alert now points here." : "\(moved) alerts now point here.")
            return console.redirect(to: KnowledgeEditor.path(targetID), flash: ConsoleFlash(kind: "info", ids: [], text: text))
        } catch let error as APIError where [.notFound, .conflict, .unprocessableContent].contains(error.status) {
            return console.redirect(to: back, flash: ConsoleFlash(kind: "problem", ids: [], text: KnowledgeForm.sentence(error.message)))
        }
    }

    func notFound(_ request: Request, _ viewer: ConsoleViewer) throws -> Response {
        try console.notFound("knowledge-base entry", back: "/knowledge", section: "knowledge", viewer: viewer, request: request)
    }
}
