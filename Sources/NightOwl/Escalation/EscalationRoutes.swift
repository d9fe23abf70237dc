import Foundation
import Hummingbird
import OwlCore
import PostgresNIO

/// `/api/v1/escalation-policies`: managers shape policies; everyone reads them, their dry-runs and what happened.
struct EscalationRoutes {
    let platform: Platform
    var store: EscalationStore { EscalationStore(logger: platform.logger) }
    /// The platform's clock.
    func now() -> Date { platform.clock.now }

    func register(on routes: OwlRouter) {
        routes.secured(.post, "/api/v1/escalation-policies", .role(.manager), create)
        routes.secured(.get, "/api/v1/escalation-policies", .role(.readonly), list)
        routes.secured(.get, "/api/v1/escalation-policies/{id}", .role(.readonly), get)
        routes.secured(.put, "/api/v1/escalation-policies/{id}", .role(.manager), update)
        routes.secured(.delete, "/api/v1/escalation-policies/{id}", .role(.manager), delete)
        routes.secured(.post, "/api/v1/escalation-policies/{id}/dry-run", .role(.readonly), dryRun)
        routes.secured(.get, "/api/v1/escalation-policies/{id}/events/{alertID}", .role(.readonly), events)
        routes.secured(.get, "/api/v1/notifications", .role(.readonly), notifications)
    }

    @Sendable func create(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let policy = try await platform.decode(EscalationPolicyInput.self, from: request).applied(to: nil, at: now())
        let saved = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) {
            try await store.save(policy, creating: true, on: $0)
        }
        await platform.audit(context, principal, action: "escalation_policy.create", resource: "escalation_policy", id: saved.id.uuidString, diff: .from(saved))
        return try JSON.response(saved, status: .created)
    }

    @Sendable func list(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let page = try OffsetPage(query: Query(request))
        let (items, total) = try await platform.database.withTenant(principal.tenant.slug) { try await store.list(page: page, on: $0) }
        return try JSON.response(OffsetList(items: items, total: total, page: page))
    }

    @Sendable func get(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        guard let policy = try await platform.database.withTenant(principal.tenant.slug, { try await store.get(id, on: $0) }) else {
            throw APIError.notFound("escalation policy")
        }
        return try JSON.response(policy)
    }

    @Sendable func update(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let input = try await platform.decode(EscalationPolicyInput.self, from: request)
        let (before, after) = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) { connection in
            guard let before = try await store.get(id, lock: true, on: connection) else { throw APIError.notFound("escalation policy") }
            return (before, try await store.save(try input.applied(to: before, at: now()), creating: false, on: connection))
        }
        await platform.audit(context, principal, action: "escalation_policy.update", resource: "escalation_policy", id: id.uuidString,
                             diff: AuditDiff.between(before, after))
        return try JSON.response(after)
    }

    /// Deletes a policy; escalations in progress under it stop, services fall back to the default policy.
    @Sendable func delete(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        guard try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor, { try await store.delete(id, on: $0) }) else {
            throw APIError.notFound("escalation policy")
        }
        await platform.audit(context, principal, action: "escalation_policy.delete", resource: "escalation_policy", id: id.uuidString)
        return Response(status: .noContent)
    }

    struct DryRunInput: Decodable {
        var at: Date?
        var severity: Severity?
    }

    /// The timeline an alert of `severity` firing at `at` would get: each step's time, people (through the rosters at
    /// that moment, overrides included) and methods. Nothing is sent.
    @Sendable func dryRun(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let input = try await platform.decode(DryRunInput.self, from: request)
        let at = input.at ?? now()
        let severity = input.severity ?? .critical
        let tenant = principal.tenant
        let settings = try await ProviderSettings.load(platform.tenantConfig, tenant: tenant, defaults: platform.config.providerModes)
        let result = try await platform.database.withTenant(tenant.slug) { connection -> JSONValue in
            guard let policy = try await store.get(id, on: connection) else { throw APIError.notFound("escalation policy") }
            let escalates = severity >= policy.severityThreshold
            var steps: [JSONValue] = []
            if escalates {
                let resolver = TargetResolver(connection: connection, logger: platform.logger)
                let schedule = policy.schedule
                for (step, time) in schedule.steps(firedAt: at) {
                    let tier = policy.tiers[schedule.tier(ofStep: step)]
                    let planned = EscalationPlanner.notifications(for: tier, resolved: try await resolver.resolve(tier.targets, at: time),
                                                                  defaultSlackChannel: settings.defaultSlackChannel)
                    steps.append(.object([
                        "step": .number(Double(step)), "tier": .number(Double(schedule.tier(ofStep: step) + 1)),
                        "repeat": .number(Double(schedule.repetition(ofStep: step))), "at": .string(Timestamp.format(time)),
                        "notifications": .array(planned.map { n in
                            var object = JSONValue.from(n).objectValue ?? [:]
                            object["mode"] = .string(settings.mode(for: n.method).rawValue)
                            return .object(object)
                        }),
                    ]))
                }
            }
            return .object(["policy_id": .string(policy.id.uuidString.lowercased()), "at": .string(Timestamp.format(at)),
                            "severity": .string(severity.rawValue), "escalates": .bool(escalates), "steps": .array(steps)])
        }
        return try JSON.response(result)
    }

    /// What happened for one alert under this policy.
    @Sendable func events(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let alert = try context.uuid("alertID")
        let items = try await platform.database.withTenant(principal.tenant.slug) { connection in
            guard try await store.get(id, on: connection) != nil else { throw APIError.notFound("escalation policy") }
            return try await store.events(alert: alert, on: connection).filter { $0.policyID == id }
        }
        return try JSON.response(["items": items])
    }

    /// The outbox: what was sent, is waiting, failed, or (sandbox) would have been sent.
    @Sendable func notifications(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let query = Query(request)
        let page = try CursorPage(query: query)
        let status = query["status"]
        if let status, !["pending", "sending", "sent", "sandboxed", "failed", "cancelled"].contains(status) {
            throw APIError.validation("status must be one of pending, sending, sent, sandboxed, failed, cancelled", field: "status")
        }
        let alert = try query.uuid("alert_id")
        let rows = try await platform.database.withTenant(principal.tenant.slug) {
            try await store.notifications(page: page, status: status, alert: alert, on: $0)
        }
        return try JSON.response(CursorList(rows: rows, page: page) { Cursor(time: $0.createdAt, id: $0.id) })
    }
}
