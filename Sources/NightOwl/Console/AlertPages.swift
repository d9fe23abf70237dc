import Foundation
import Hummingbird
import OwlCore

/// The alerts list, an alert's page, its short link, and the actions on alerts (acknowledge, resolve, undo) as plain
/// forms with Post/Redirect/Get; the script makes them update the page in place.
struct AlertPages {
    let platform: Platform
    let console: Console
    var store: AlertStore { AlertStore(logger: platform.logger) }
    var lifecycle: AlertLifecycle { AlertLifecycle(platform: platform) }

    static let pageSize = 50

    func register(on routes: OwlRouter) {
        routes.page(.get, "/alerts", .readonly, inAPI: false, list)
        routes.page(.get, "/alerts/{id}", .readonly, inAPI: false, detail)
        routes.page(.get, "/alerts/{id}/row", .readonly, inAPI: false, row)
        routes.page(.get, "/a/{short}", .readonly, inAPI: false, shortLink)
        routes.page(.post, "/alerts/actions", .engineer, inAPI: false, actions)
        routes.page(.post, "/alerts/{id}/resolve", .engineer, inAPI: false, resolve)
        routes.page(.post, "/alerts/undo", .engineer, inAPI: false, undo)
        routes.page(.post, "/alerts/{id}/knowledge", .engineer, inAPI: false, addKnowledge)
        routes.page(.post, "/alerts/{id}/escalate", .engineer, inAPI: false, escalate)
    }

    // MARK: The list

    /// Open alerts first by default; filters by status, severity, service, source, time range and words of the title.
    @Sendable func list(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let viewer = try await console.viewer(principal)
        let query = Query(request)
        let form = AlertListForm(query: query, now: viewer.time.now)
        var problem = form.problem
        var page = CursorPage(limit: Self.pageSize)
        if let cursor = query["cursor"] {
            if let after = Cursor(encoded: cursor) { page.after = after } else { problem = problem ?? "That page link is no longer valid; showing the first page." }
        }
        let filter = form.filter
        // The counts scan every alert of the filter: on a second connection, while the page's rows are read.
        async let counting = platform.database.withTenant(principal.tenant.slug) { try await store.counts(filter, on: $0) }
        let rows = try await platform.database.withTenant(principal.tenant.slug) { try await store.list(filter, page: page, on: $0) }
        let counts = try await counting
        let listed = CursorList(rows: rows, page: page) { Cursor(time: $0.firstFiredAt, id: $0.id) }
        let flash = ConsoleFlash.read(request)
        var values: [String: Any] = [
            "alerts": listed.items.map { AlertView.row($0, time: viewer.time, canAct: principal.role >= .engineer) }, "empty": listed.items.isEmpty,
            "next": listed.nextCursor.map { form.link(cursor: $0) } ?? false, "first": page.after != nil ? form.link(cursor: nil) : false,
            "counts": form.statusLinks(counts), "form": form.values, "problem": problem ?? false,
            "flash": flash?.values ?? false, "canAct": principal.role >= .engineer,
        ]
        values["events"] = "/events"
        values["topic"] = "alert"
        values["reload"] = true
        values["fragment"] = "/alerts/{id}/row"
        let response = try console.page("alerts", title: "Alerts", section: "alerts", viewer: viewer, request: request, values: values,
                                        query: form.text, refresh: true)
        return ConsoleFlash.consumed(response, flash)
    }

    /// One row of the list, for the script to swap in when the alert changes.
    @Sendable func row(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let viewer = try await console.viewer(principal)
        guard let alert = try await platform.database.withTenant(principal.tenant.slug, { try await store.get(id, on: $0) }) else {
            throw APIError.notFound("alert")
        }
        var values = AlertView.row(alert, time: viewer.time, canAct: principal.role >= .engineer)
        values["csrf"] = principal.csrfToken ?? ""
        return try console.fragment("alert-row", values: values)
    }

    /// `/a/1a2b3c4d`: the first 8 characters of an alert's id are enough (what Slack, SMS and calls carry).
    @Sendable func shortLink(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let short = context.parameters.get("short") ?? ""
        let id = try await platform.database.withTenant(principal.tenant.slug) { try await store.find(prefix: short, on: $0) }
        guard let id else {
            return try await notFound(request, principal)
        }
        return Response(status: .seeOther, headers: [.location: "/alerts/\(id.uuidString.lowercased())"])
    }

    // MARK: One alert

    /// Everything about one alert: what fired, what the knowledge base knows, who was paged how and what came of it;
    /// once resolved and still unknown to the knowledge base, a form to record what fixed it.
    @Sendable func detail(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { return try await notFound(request, principal) }
        return try await page(id, request, principal)
    }

    func page(_ id: UUID, _ request: Request, _ principal: Principal, form: [String: String]? = nil, problems: [String: String] = [:],
              status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = try await console.viewer(principal)
        let found = try await platform.database.withTenant(principal.tenant.slug) { connection -> AlertPageData? in
            guard let alert = try await store.get(id, on: connection) else { return nil }
            return try await AlertPageData.load(alert, platform: platform, on: connection)
        }
        guard let found else { return try await notFound(request, principal) }
        let flash = ConsoleFlash.read(request)
        var values = AlertView.values(found.alert, time: viewer.time)
        values["incident"] = found.incident.map { ["id": $0.id.uuidString.lowercased(), "title": $0.title,
                                                   "solutionHTML": Markdown.trusted($0.solution, headingOffset: 3),
                                                   "rootCauseHTML": Markdown.trusted($0.rootCause, headingOffset: 3), "hasSolution": !$0.solution.isEmpty,
                                                   "hasRootCause": !$0.rootCause.isEmpty] } ?? false
        values["runbook"] = found.runbook.map { ["id": $0.id.uuidString.lowercased(), "title": $0.title] } ?? false
        values["timeline"] = found.timeline(time: viewer.time)
        values["hasTimeline"] = !found.events.isEmpty
        values["canAct"] = principal.role >= .engineer
        values["flash"] = flash?.values ?? false
        values["prompt"] = principal.role >= .engineer && found.alert.status == .resolved && found.incident == nil
            ? Self.prompt(found.alert, form: form, problems: problems) : false
        values["events"] = "/events"
        values["topic"] = "alert"
        values["reload"] = true
        values["fragment"] = "/alerts/{id}/row"
        let response = try console.page("alert", title: found.alert.title, section: "alerts", viewer: viewer, request: request,
                                        values: values, status: status)
        return ConsoleFlash.consumed(response, flash)
    }

    /// The knowledge-base form of a resolved alert, filled from the alert (or from what was sent, with its problems).
    static func prompt(_ alert: Alert, form: [String: String]?, problems: [String: String]) -> [String: Any] {
        let severity = form?["severity"] ?? alert.severity.rawValue
        return [
            "title": form?["title"] ?? alert.title, "symptoms": form?["symptoms"] ?? alert.description,
            "rootCause": form?["root_cause"] ?? "", "solution": form?["solution"] ?? alert.resolutionNotes ?? "",
            "severities": Severity.allCases.map { ["value": $0.rawValue, "label": $0.rawValue.capitalized, "selected": $0.rawValue == severity] },
            "problems": problems.sorted { $0.key < $1.key }.map { ["field": $0.key.replacingOccurrences(of: "_", with: " "), "text": $0.value] },
            "hasProblems": !problems.isEmpty,
        ]
    }

    /// Records what fixed a resolved alert as a knowledge-base entry (as Slack's "Add to Knowledge Base" does); the
    /// next firing of its fingerprint comes with the solution.
    @Sendable func addKnowledge(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let form = try await ConsoleForm.read(request, limit: platform.config.bodyLimitBytes)
        let knowledge = AlertKnowledge(platform: platform)
        enum Outcome: Sendable { case saved(UUID, String), known(UUID), invalid([String: String]), missing }
        let outcome = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) { connection -> Outcome in
            guard let alert = try await store.get(id, lock: true, on: connection) else { return .missing }
            if let known = try await knowledge.knownEntry(alert, on: connection) { return .known(known.id) }
            func text(_ name: String) -> String? { form[name].flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 } }
            let input = AlertKnowledge.input(for: alert, title: form["title"] ?? "", severity: form["severity"].flatMap(Severity.init(rawValue:)),
                                             symptoms: text("symptoms"), rootCause: text("root_cause"), solution: form["solution"] ?? "")
            switch AlertKnowledge.check(input) {
            case .failure(let problems): return .invalid(problems.byField)
            case .success(let checked):
                let incident = try await knowledge.record(checked, for: alert, by: principal.actor, source: "console", on: connection)
                return .saved(incident.id, incident.title)
            }
        }
        switch outcome {
        case .missing:
            return try await notFound(request, principal)
        case .known(let entry):
            return console.redirect(to: "/knowledge/\(entry.uuidString.lowercased())", flash: ConsoleFlash(kind: "info", ids: [], text: "The knowledge base already knows this alert."))
        case .invalid(let problems):
            return try await page(id, request, principal, form: form, problems: problems, status: .unprocessableContent)
        case .saved(let entry, let title):
            await platform.audit(context, principal, action: "incident.create", resource: "incident", id: entry.uuidString,
                                 diff: .object(["title": .string(title), "alert_id": .string(id.uuidString.lowercased())]))
            return console.redirect(to: "/knowledge/\(entry.uuidString.lowercased())", flash: ConsoleFlash(kind: "info", ids: [], text: "Added to the knowledge base: the next alert like this one comes with its solution."))
        }
    }

    func notFound(_ request: Request, _ principal: Principal) async throws -> Response {
        try console.notFound("alert", back: "/alerts", section: "alerts", viewer: try await console.viewer(principal), request: request)
    }

    // MARK: Actions

    /// The list's buttons: one alert's Acknowledge (`acknowledge=<id>`), or the ticked ones (`id`) with
    /// `action=acknowledge|resolve`. Back to the list with what happened, and Undo for acknowledgements.
    @Sendable func actions(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let fields = try await ConsoleForm.readAll(request, limit: platform.config.bodyLimitBytes)
        let returnTo = ReturnPath.safe(fields.last { $0.0 == "return_to" }?.1, fallback: "/alerts")
        var ids: [UUID]
        var action = fields.last { $0.0 == "action" }?.1 ?? ""
        if let single = fields.last(where: { $0.0 == "acknowledge" })?.1 {
            ids = UUID(uuidString: single).map { [$0] } ?? []
            action = "acknowledge"
        } else {
            ids = fields.filter { $0.0 == "id" }.compactMap { UUID(uuidString: $0.1) }
        }
        ids = Array(NSOrderedSet(array: ids).compactMap { $0 as? UUID }.prefix(AlertPages.pageSize * 4))
        guard !ids.isEmpty, action == "acknowledge" || action == "resolve" else {
            return console.redirect(to: returnTo, flash: ConsoleFlash(kind: "problem", ids: [], text: "Tick the alerts to act on, then choose Acknowledge or Resolve."))
        }
        var changed: [UUID] = []
        var title = ""
        for id in ids {
            let outcome = action == "acknowledge" ? try await lifecycle.acknowledge(id, principal, context)
                                                  : try await lifecycle.resolve(id, notes: nil, principal, context)
            if let outcome, outcome.changed {
                changed.append(id)
                title = outcome.alert.title
            }
        }
        let verb = action == "acknowledge" ? "Acknowledged" : "Resolved"
        let text = changed.isEmpty ? "Nothing changed: \(ids.count == 1 ? "the alert was" : "those alerts were") already \(action == "acknowledge" ? "acknowledged or resolved" : "resolved")."
            : changed.count == 1 ? "\(verb): \(title)" : "\(verb) \(changed.count) alerts."
        return console.redirect(to: returnTo, flash: ConsoleFlash(kind: changed.isEmpty ? "info" : action == "acknowledge" ? "acknowledged" : "resolved", ids: changed, text: text))
    }

    /// Resolve from the alert's page, with notes; when the knowledge base does not know the alert, its page then
    /// offers to record what fixed it.
    @Sendable func resolve(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let form = try await ConsoleForm.read(request, limit: platform.config.bodyLimitBytes)
        let notes = form["notes"]?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let notes, notes.count > 10_000 {
            return console.redirect(to: "/alerts/\(id.uuidString.lowercased())", flash: ConsoleFlash(kind: "problem", ids: [], text: "Notes can be at most 10,000 characters."))
        }
        guard let outcome = try await lifecycle.resolve(id, notes: notes?.isEmpty == false ? notes : nil, principal, context) else {
            throw APIError.notFound("alert")
        }
        let flash = outcome.changed ? ConsoleFlash(kind: outcome.known == false ? "resolved-unknown" : "resolved", ids: [id], text: "Resolved.")
            : ConsoleFlash(kind: "info", ids: [], text: "The alert was already resolved.")
        return console.redirect(to: "/alerts/\(id.uuidString.lowercased())", flash: flash)
    }

    /// Pages the alert's next tier now instead of at its timeout (as Slack's Escalate button and an SMS `ESC` do).
    @Sendable func escalate(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        _ = try await ConsoleForm.read(request, limit: platform.config.bodyLimitBytes)
        let changed = try await AlertActions(platform: platform).perform(.escalate, [id], actorType: principal.method.rawValue, by: principal.actor,
                                                                         tenant: principal.tenant, context: context)
        let text = changed > 0 ? "Escalated: the next tier is paged now." : "Nothing to escalate: the alert is no longer escalating."
        return console.redirect(to: "/alerts/\(id.uuidString.lowercased())", flash: ConsoleFlash(kind: "info", ids: [], text: text))
    }

    /// Undo of an acknowledgement: the alerts fire again and their escalation goes on.
    @Sendable func undo(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let fields = try await ConsoleForm.readAll(request, limit: platform.config.bodyLimitBytes)
        let returnTo = ReturnPath.safe(fields.last { $0.0 == "return_to" }?.1, fallback: "/alerts")
        let ids = fields.filter { $0.0 == "id" }.compactMap { UUID(uuidString: $0.1) }.prefix(AlertPages.pageSize * 4)
        var undone = 0
        for id in ids where try await lifecycle.unacknowledge(id, principal, context)?.changed == true { undone += 1 }
        let text = undone == 0 ? "Nothing to undo: the alert is no longer acknowledged." : undone == 1 ? "Undone: the alert is firing again."
            : "Undone: \(undone) alerts are firing again."
        return console.redirect(to: returnTo, flash: ConsoleFlash(kind: "info", ids: [], text: text))
    }
}
