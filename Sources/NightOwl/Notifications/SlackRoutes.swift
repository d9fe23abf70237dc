import Foundation
import Hummingbird
import OwlCore

/// Slack's interactive buttons on alert messages (Acknowledge, Escalate; Add to Knowledge Base and its modal in
/// `SlackRoutes+Knowledge.swift`) at `/api/v1/slack/interactions?tenant=`, and
/// the `/nightowl` slash command at `/api/v1/slack/commands?tenant=` (`SlackRoutes+Commands.swift`), and the Events API
/// at `/api/v1/slack/events?tenant=` (mentions and DMs, `SlackRoutes+Events.swift`). Every request
/// must pass Slack's v0 signature check with the tenant's signing secret, and be at most five minutes old (replays are
/// refused); otherwise 403.
struct SlackRoutes {
    let platform: Platform
    /// The platform's clock.
    func now() -> Date { platform.clock.now }

    func register(on routes: OwlRouter) {
        routes.signed(.post, "/api/v1/slack/interactions", interactions)
        routes.signed(.post, "/api/v1/slack/commands", commands)
        routes.signed(.post, "/api/v1/slack/events", events)
        routes.secured(.get, "/api/v1/slack/manifest", .role(.admin), manifest)
    }

    /// The tenant's Slack app manifest, with its request URLs at the tenant's public address (`public_base_url`,
    /// else the service's, else the request's host), a link that creates the app from it, and what would stop Slack
    /// from reaching those URLs.
    @Sendable func manifest(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let configured = try await platform.tenantConfig.setting("public_base_url", tenantID: principal.tenant.id)?.stringValue
        var base = configured ?? platform.baseURL(for: request)
        while base.hasSuffix("/") { base.removeLast() }
        let manifest = SlackAppManifest.manifest(base: base, tenant: principal.tenant.slug)
        return try JSON.response(JSONValue.object([
            "manifest": manifest, "create_url": .string(SlackAppManifest.createURL(manifest)),
            "warnings": .array(SlackAppManifest.warnings(base: base).map(JSONValue.string)),
        ]))
    }

    /// The tenant (`?tenant=`) and the form of a request that Slack signed with the tenant's signing secret at most
    /// five minutes ago; 403 otherwise.
    func verified(_ request: Request) async throws -> (Tenant, [String: String]) {
        let (tenant, body) = try await verifiedBody(request)
        return (tenant, Dictionary(FormEncoding.decode(body), uniquingKeysWith: { first, _ in first }))
    }

    /// The tenant and the raw body of a signed request (form-encoded for commands and interactions, JSON for events).
    func verifiedBody(_ request: Request) async throws -> (Tenant, String) {
        let query = Query(request)
        guard let slug = query["tenant"].flatMap(TenantSlug.init), let tenant = try await TenantStore(database: platform.database).find(slug: slug),
              let secret = try await platform.tenantConfig.secret("slack_signing_secret", tenantID: tenant.id) else {
            throw APIError.forbidden("unknown tenant or missing Slack signature")
        }
        let body = String(buffer: try await request.body.collect(upTo: 256 * 1024))
        guard let timestamp = request.headers[.init("X-Slack-Request-Timestamp")!], let signature = request.headers[.init("X-Slack-Signature")!],
              SlackSignature.isValid(body: body, timestamp: timestamp, signature: signature, secret: secret, now: now()) else {
            throw APIError.forbidden("missing, stale or invalid X-Slack-Signature")
        }
        return (tenant, body)
    }

    @Sendable func interactions(_ request: Request, _ context: OwlRequestContext) async throws -> Response {
        let (tenant, form) = try await verified(request)
        guard let payload = form["payload"].flatMap(JSONValue.parse)?.objectValue else { throw APIError.badRequest("the form has no JSON payload") }
        if payload["type"]?.stringValue == "view_submission" { return try await submitKnowledgeEntry(payload, tenant: tenant, context: context) }
        guard case .array(let actions)? = payload["actions"], let action = actions.first?.objectValue,
              let actionID = action["action_id"]?.stringValue else {
            throw APIError.badRequest("not a block_actions or view_submission payload")
        }
        // Link buttons (View Runbook) report their clicks too; they change nothing.
        let handled = ["ack_alert", "escalate_alert", SlackKnowledgeModal.openAction, SlackKnowledgeModal.skipAction]
        guard handled.contains(actionID) else { return Response(status: .ok) }
        guard let slackUser = payload["user"]?.objectValue?["id"]?.stringValue, !slackUser.isEmpty else {
            throw APIError.badRequest("the payload names no Slack user")
        }
        let ids = [action["value"]?.stringValue.flatMap(UUID.init(uuidString:))].compactMap { $0 }
        // Acting on an alert ends or speeds up someone's paging: as in the API, only an active engineer or above may,
        // and a Slack member is the user whose `slack_user_id` they are.
        guard let member = try await member(slackUser, tenant: tenant), member.role >= .engineer else {
            try await explainRefusal(to: slackUser, tenant: tenant)
            return try JSON.response(["response_type": "ephemeral", "replace_original": "false", "text": Self.refusal])
        }
        switch actionID {
        case SlackKnowledgeModal.openAction: return try await openKnowledgeModal(payload, alertID: ids.first, slackUser: slackUser, tenant: tenant)
        case SlackKnowledgeModal.skipAction: return try await skipKnowledgeEntry(payload, alertID: ids.first, slackUser: slackUser, tenant: tenant)
        default: break
        }
        let actor = member.email
        let text: String
        switch actionID {
        case "ack_alert":
            let count = try await AlertActions(platform: platform).perform(.acknowledge, ids, actorType: "slack", by: actor, tenant: tenant, context: context)
            text = count > 0 ? "✅ Acknowledged by <@\(slackUser)>" : "The alert was already acknowledged or resolved."
        case "escalate_alert":
            let count = try await AlertActions(platform: platform).perform(.escalate, ids, actorType: "slack", by: actor, tenant: tenant, context: context)
            text = count > 0 ? "🔼 Escalated by <@\(slackUser)>" : "The alert is no longer escalating."
        default:
            text = ""
        }
        return try JSON.response(["response_type": "in_channel", "replace_original": "false", "text": text])
    }

    static let refusal = "Only NightOwl users with the engineer role or above can act on alerts from Slack, and this Slack "
        + "account is not linked to one. An admin can set your slack_user_id in NightOwl."

    /// The active user with this Slack id, if any.
    func member(_ slackUser: String, tenant: Tenant) async throws -> (email: String, role: Role)? {
        try await platform.database.withTenant(tenant.slug) { connection in
            for try await (email, role) in try await connection.query("""
                SELECT email, role FROM users WHERE slack_user_id = \(slackUser) AND is_active
                """, logger: platform.logger).decode((String, String).self) {
                return Role(rawValue: role).map { (email, $0) }
            }
            return nil
        }
    }

    /// Slack shows nothing of a button's answer, so a refused person is told by DM, through the outbox (one a minute
    /// at most, whatever they press).
    func explainRefusal(to slackUser: String, tenant: Tenant) async throws {
        let settings = try await ProviderSettings.load(platform.tenantConfig, tenant: tenant, defaults: platform.config.providerModes)
        let key = "slack-refusal:\(slackUser):\(Int(now().timeIntervalSince1970 / 60))"
        try await platform.database.withTenant(tenant.slug) { connection in
            try await OutboxMessage.queue(.slackDM, recipient: slackUser, payload: .object(["slack": .object(["text": .string(Self.refusal)])]),
                                          key: key, mode: settings.mode(for: .slackDM), at: now(), on: connection, logger: platform.logger)
        }
    }
}

