import Foundation
import Hummingbird
import OwlCore

/// `/api/v1/runbooks`: procedures in Markdown. Engineers write them, managers delete them, everyone reads them.
struct RunbookRoutes {
    let platform: Platform
    var store: RunbookStore { RunbookStore(logger: platform.logger) }

    func register(on routes: OwlRouter) {
        routes.secured(.post, "/api/v1/runbooks", .role(.engineer), create)
        routes.secured(.get, "/api/v1/runbooks", .role(.readonly), list)
        routes.secured(.get, "/api/v1/runbooks/templates", .role(.readonly), templates)
        routes.secured(.get, "/api/v1/runbooks/{id}", .role(.readonly), get)
        routes.secured(.put, "/api/v1/runbooks/{id}", .role(.engineer), update)
        routes.secured(.delete, "/api/v1/runbooks/{id}", .role(.manager), delete)
    }

    /// Creates a runbook.
    @Sendable func create(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let input = try await platform.decode(RunbookInput.self, from: request).validated(creating: true)
        let runbook = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) {
            try await store.create(input, by: principal.actor, on: $0)
        }
        await platform.audit(context, principal, action: "runbook.create", resource: "runbook", id: runbook.id.uuidString,
                             diff: .object(["title": .string(runbook.title)]))
        return try JSON.response(runbook, status: .created)
    }

    /// Lists runbooks (templates first); filters `category`, `tag`, `template`, `q` (title contains).
    @Sendable func list(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let query = Query(request)
        let page = try OffsetPage(query: query)
        var filter = RunbookStore.Filter(category: query["category"], tag: query["tag"], text: query["q"])
        if let raw = query["template"] {
            guard let value = Bool(raw) else { throw APIError.validation("template must be true or false", field: "template") }
            filter.templates = value
        }
        let (items, total) = try await platform.database.withTenant(principal.tenant.slug) { try await store.list(filter, page: page, on: $0) }
        return try JSON.response(OffsetList(items: items, total: total, page: page))
    }

    /// The Kubernetes runbooks shipped with NightOwl.
    @Sendable func templates(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let page = OffsetPage(limit: OffsetPage.maximumLimit)
        let (items, _) = try await platform.database.withTenant(principal.tenant.slug) {
            try await store.list(RunbookStore.Filter(templates: true), page: page, on: $0)
        }
        return try JSON.response(["items": items])
    }

    /// One runbook.
    @Sendable func get(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        guard let runbook = try await platform.database.withTenant(principal.tenant.slug, { try await store.get(id, on: $0) }) else {
            throw APIError.notFound("runbook")
        }
        return try JSON.response(runbook)
    }

    /// Changes the fields given. Templates are read-only: copy one into a new runbook to adapt it.
    @Sendable func update(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let input = try await platform.decode(RunbookInput.self, from: request).validated(creating: false)
        let result = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) { connection -> (Runbook, Runbook)? in
            guard let current = try await store.lock(id, on: connection) else { return nil }
            guard !current.isTemplate else { throw APIError.conflict("shipped templates are read-only; create a runbook from its content instead") }
            return try await store.update(id, input, on: connection)
        }
        guard let (before, after) = result else { throw APIError.notFound("runbook") }
        await platform.audit(context, principal, action: "runbook.update", resource: "runbook", id: id.uuidString,
                             diff: AuditDiff.between(before, after))
        return try JSON.response(after)
    }

    /// Deletes a runbook; incidents that linked it keep their other data.
    @Sendable func delete(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let deleted = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) { connection -> Runbook? in
            guard let current = try await store.lock(id, on: connection) else { return nil }
            guard !current.isTemplate else { throw APIError.conflict("shipped templates cannot be deleted") }
            return try await store.delete(id, on: connection)
        }
        guard let deleted else { throw APIError.notFound("runbook") }
        await platform.audit(context, principal, action: "runbook.delete", resource: "runbook", id: id.uuidString,
                             diff: .object(["title": .string(deleted.title)]))
        return Response(status: .noContent)
    }
}
