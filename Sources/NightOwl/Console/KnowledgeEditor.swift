import Foundation
import HTTPTypes
import Hummingbird
import OwlCore
import PostgresNIO

/// Writing the knowledge base in the console: a new entry, editing one (Markdown with a preview the server renders,
/// shown beside the editor as it is typed, or below the form after "Preview" without the script), and archiving.
struct KnowledgeEditor {
    let platform: Platform
    let console: Console
    var store: IncidentStore { IncidentStore(logger: platform.logger) }
    var service: IncidentService { IncidentService(platform: platform) }
    /// The script asks for the preview alone with this header.
    static let previewHeader = HTTPField.Name("X-Owl-Fragment")!

    func register(on routes: OwlRouter) {
        routes.page(.get, "/knowledge/new", .engineer, inAPI: false, new)
        routes.page(.post, "/knowledge", .engineer, inAPI: false, create)
        routes.page(.get, "/knowledge/{id}/edit", .engineer, inAPI: false, edit)
        routes.page(.post, "/knowledge/{id}", .engineer, inAPI: false, update)
        routes.page(.post, "/knowledge/{id}/archive", .engineer, inAPI: false, archive)
    }

    /// An empty form (a severity chosen, as most entries are warnings).
    @Sendable func new(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        try await form(KnowledgeForm(values: ["severity": Severity.warning.rawValue]), entry: nil, request, principal)
    }

    /// Creates the entry, or shows the form again with its problems (or its preview).
    @Sendable func create(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let form = KnowledgeForm(values: try await ConsoleForm.read(request, limit: platform.config.bodyLimitBytes))
        if let shown = try await previewIfAsked(form, entry: nil, request, principal) { return shown }
        switch form.input() {
        case .failure(let problems):
            return try await self.form(form, entry: nil, request, principal, problems: problems.byField, status: .unprocessableContent)
        case .success(let input):
            do {
                let incident = try await service.create(input, principal, context)
                return console.redirect(to: Self.path(incident.id), flash: ConsoleFlash(kind: "info", ids: [], text: "Added to the knowledge base."))
            } catch let error as APIError where error.status == .unprocessableContent {
                return try await self.form(form, entry: nil, request, principal, problems: Self.problems(error), status: .unprocessableContent)
            }
        }
    }

    /// The entry's fields in the form.
    @Sendable func edit(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        guard let incident = try await load(context, principal) else { return try await notFound(request, principal) }
        if let survivor = incident.mergedIntoID {
            return console.redirect(to: Self.path(survivor), flash: ConsoleFlash(kind: "info", ids: [], text: "That entry was merged into this one: edit this one."))
        }
        return try await form(KnowledgeForm(incident), entry: incident, request, principal)
    }

    /// Saves the form over the entry (the history records what changed), or shows it again with its problems.
    @Sendable func update(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        guard let incident = try await load(context, principal) else { return try await notFound(request, principal) }
        let form = KnowledgeForm(values: try await ConsoleForm.read(request, limit: platform.config.bodyLimitBytes))
        if let shown = try await previewIfAsked(form, entry: incident, request, principal) { return shown }
        switch form.input() {
        case .failure(let problems):
            return try await self.form(form, entry: incident, request, principal, problems: problems.byField, status: .unprocessableContent)
        case .success(let input):
            do {
                guard try await service.update(incident.id, input, principal, context) != nil else { return try await notFound(request, principal) }
                return console.redirect(to: Self.path(incident.id), flash: ConsoleFlash(kind: "info", ids: [], text: "Saved."))
            } catch let error as APIError where error.status == .unprocessableContent || error.status == .conflict {
                return try await self.form(form, entry: incident, request, principal, problems: Self.problems(error), status: error.status)
            }
        }
    }

    /// Archives the entry: alerts stop being enriched with it, and it leaves lists and search; its page stays.
    @Sendable func archive(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        _ = try await ConsoleForm.read(request, limit: platform.config.bodyLimitBytes)
        guard try await service.archive(id, principal, context) != nil else { return try await notFound(request, principal) }
        return console.redirect(to: Self.path(id), flash: ConsoleFlash(kind: "info", ids: [], text: "Archived: alerts are no longer matched with this entry."))
    }

    // MARK: Pieces

    static func path(_ id: UUID) -> String { "/knowledge/\(id.uuidString.lowercased())" }

    /// A problem the store found (a runbook that is gone, a merged entry) beside its field.
    static func problems(_ error: APIError) -> [String: String] {
        let field = error.details?.objectValue?["field"]?.stringValue ?? "title"
        return [field: KnowledgeForm.sentence(error.message)]
    }

    func load(_ context: OwlRequestContext, _ principal: Principal) async throws -> Incident? {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { return nil }
        return try await platform.database.withTenant(principal.tenant.slug) { try await store.get(id, on: $0) }
    }

    /// "Preview" was pressed: the rendered Markdown alone for the script, else the whole form with the preview below.
    func previewIfAsked(_ form: KnowledgeForm, entry: Incident?, _ request: Request, _ principal: Principal) async throws -> Response? {
        guard form.values["intent"] == "preview" else { return nil }
        if request.headers[Self.previewHeader] == "preview" {
            return try console.fragment("entry-preview", values: ["preview": form.preview()])
        }
        return try await self.form(form, entry: entry, request, principal, preview: true)
    }

    func form(_ form: KnowledgeForm, entry: Incident?, _ request: Request, _ principal: Principal, problems: [String: String] = [:],
              preview: Bool = false, status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = try await console.viewer(principal)
        let runbook = form.values["runbook_id"]?.lowercased() ?? ""
        let runbooks = try await platform.database.withTenant(principal.tenant.slug) { connection -> [Runbook] in
            let store = RunbookStore(logger: platform.logger)
            var listed = try await store.list(.init(), page: OffsetPage(limit: 200, offset: 0), on: connection).0
            // The entry's own runbook is always a choice, so saving never unlinks it unasked.
            if let id = UUID(uuidString: runbook), !listed.contains(where: { $0.id == id }), let current = try await store.get(id, on: connection) {
                listed.insert(current, at: 0)
            }
            return listed
        }
        let severity = form.values["severity"] ?? ""
        let ordered = KnowledgeForm.specs.map(\.name) + ["severity", "runbook_id"]
        let values: [String: Any] = [
            "editing": entry != nil, "entryID": entry.map { $0.id.uuidString.lowercased() } ?? "", "entryTitle": entry?.title ?? "",
            "action": entry.map { Self.path($0.id) } ?? "/knowledge",
            "fields": form.fields(problems: problems),
            "severities": Severity.allCases.map { ["value": $0.rawValue, "label": $0.rawValue.capitalized, "selected": $0.rawValue == severity] },
            "severityProblem": problems["severity"] ?? false,
            "runbooks": runbooks.map { ["value": $0.id.uuidString.lowercased(), "label": $0.title, "selected": $0.id.uuidString.lowercased() == runbook] },
            "noRunbook": runbook.isEmpty, "runbookProblem": problems["runbook_id"] ?? false,
            "problems": problems.sorted { (ordered.firstIndex(of: $0.key) ?? 99) < (ordered.firstIndex(of: $1.key) ?? 99) }.map { name, text in
                ["field": "entry-" + name.replacingOccurrences(of: "_", with: "-"), "text": text]
            },
            "hasProblems": !problems.isEmpty,
            "showPreview": preview, "preview": form.preview(),
        ]
        let title = entry.map { "Edit: \($0.title)" } ?? "New knowledge-base entry"
        return try console.page("entry-form", title: problems.isEmpty ? title : "Error: \(title)", section: "knowledge", viewer: viewer,
                                request: request, values: values, status: status)
    }

    func notFound(_ request: Request, _ principal: Principal) async throws -> Response {
        try console.notFound("knowledge-base entry", back: "/knowledge", section: "knowledge", viewer: try await console.viewer(principal),
                             request: request)
    }
}
