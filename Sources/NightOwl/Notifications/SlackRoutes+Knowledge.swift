import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import OwlCore
import PostgresNIO

/// "Add to Knowledge Base" from Slack (spec: workflows 1.4, tasks 5.4). The button (on the `/nightowl resolve` prompt
/// and on the channel's message of a resolved alert the knowledge base does not know) opens a modal pre-filled from
/// the alert; its submission creates the entry with the alert's fingerprint, so that the next alert like it comes with
/// its solution. "Skip" removes the prompt. Only a linked engineer or above may (the same rule as the API's
/// `POST /incidents`); the checks are in `SlackRoutes.interactions` for the buttons and here for the submission.
extension SlackRoutes {
    static let knowledgeRefusal = "Only NightOwl users with the engineer role or above can add to the knowledge base, and this Slack "
        + "account is not linked to one."

    /// Opens the modal. Slack's trigger expires three seconds after the click, so the request calls `views.open`
    /// itself instead of leaving it to the worker.
    func openKnowledgeModal(_ payload: [String: JSONValue], alertID: UUID?, slackUser: String, tenant: Tenant) async throws -> Response {
        guard let trigger = payload["trigger_id"]?.stringValue, !trigger.isEmpty else { throw APIError.badRequest("the payload has no trigger_id") }
        guard let alertID else { throw APIError.badRequest("the button names no alert") }
        let base = try await publicBase(tenant)
        let found = try await platform.database.withTenant(tenant.slug) { connection -> (Alert, Incident?)? in
            guard let alert = try await AlertStore(logger: platform.logger).get(alertID, on: connection) else { return nil }
            return (alert, try await knownEntry(alert, on: connection))
        }
        guard let (alert, known) = found else { throw APIError.badRequest("the button names no alert") }
        let view: JSONValue
        if let known {
            view = SlackKnowledgeModal.alreadyKnownView(known, link: base.map { Self.incidentLink($0, known.id) })
        } else {
            let ephemeral = payload["container"]?.objectValue?["is_ephemeral"] == .bool(true)
            let context = SlackKnowledgeModal.Context(alertID: alert.id, responseURL: ephemeral ? payload["response_url"]?.stringValue : nil)
            view = SlackKnowledgeModal.view(for: alert, context: context)
        }
        try await callSlackNow(.openView, body: .object(["trigger_id": .string(trigger), "view": view]), alert: alert.id,
                               slackUser: slackUser, tenant: tenant, key: "slack-modal:\(trigger)")
        return Response(status: .ok)
    }

    /// "Skip": the prompt (an ephemeral message) says so instead of offering the buttons again.
    func skipKnowledgeEntry(_ payload: [String: JSONValue], alertID: UUID?, slackUser: String, tenant: Tenant) async throws -> Response {
        if payload["container"]?.objectValue?["is_ephemeral"] == .bool(true), let url = payload["response_url"]?.stringValue {
            try await callSlackNow(.respond(url), body: SlackKnowledgeModal.promptAnswered("Skipped: nothing was added to the knowledge base."),
                                   alert: alertID, slackUser: slackUser, tenant: tenant, key: "slack-skip:\(url)")
        }
        return Response(status: .ok)
    }

    /// A submitted modal: the entry is created, linked to the alert, and the alert's Slack messages are followed up
    /// without the button. Problems are shown in the modal under the field at fault, as Slack expects
    /// (`response_action: errors`), and nothing is stored.
    func submitKnowledgeEntry(_ payload: [String: JSONValue], tenant: Tenant, context: OwlRequestContext) async throws -> Response {
        guard let view = payload["view"]?.objectValue, view["callback_id"]?.stringValue == SlackKnowledgeModal.callbackID,
              let modal = view["private_metadata"]?.stringValue.flatMap(SlackKnowledgeModal.Context.init(metadata:)) else {
            throw APIError.badRequest("not a submission of the knowledge-base modal")
        }
        guard let slackUser = payload["user"]?.objectValue?["id"]?.stringValue, !slackUser.isEmpty else {
            throw APIError.badRequest("the payload names no Slack user")
        }
        guard let member = try await member(slackUser, tenant: tenant), member.role >= .engineer else {
            return try JSON.response(SlackKnowledgeModal.errorsAnswer(.init(byBlock: ["title": Self.knowledgeRefusal])))
        }
        let values = view["state"]?.objectValue?["values"]
        let outcome = try await platform.database.withTenant(tenant.slug, actor: member.email) { connection in
            try await storeKnowledgeEntry(values, alertID: modal.alertID, by: member.email, on: connection)
        }
        let incident: Incident
        switch outcome {
        case .failure(let errors): return try JSON.response(SlackKnowledgeModal.errorsAnswer(errors))
        case .success(let created): incident = created
        }
        await platform.audit.record(AuditEntry(actor: member.email, actorType: "slack", action: "incident.create", resource: "incident",
                                               resourceID: incident.id.uuidString,
                                               diff: .object(["title": .string(incident.title), "alert_id": .string(modal.alertID.uuidString)]),
                                               requestID: context.requestID, ipAddress: context.remoteAddress, createdAt: now()), tenant: tenant.slug)
        if let url = modal.responseURL {
            try await callSlackNow(.respond(url), body: SlackKnowledgeModal.promptAnswered("📚 Added to the knowledge base: \(incident.title)"),
                                   alert: modal.alertID, slackUser: slackUser, tenant: tenant, key: "slack-kb-added:\(incident.id)")
        }
        let link = try await publicBase(tenant).map { Self.incidentLink($0, incident.id) }
        return try JSON.response(SlackKnowledgeModal.savedAnswer(incident, link: link))
    }

    /// In one transaction, with the alert locked so that two submissions cannot both create an entry.
    func storeKnowledgeEntry(_ values: JSONValue?, alertID: UUID, by actor: String,
                             on connection: PostgresConnection) async throws -> Result<Incident, SlackKnowledgeModal.Errors> {
        let alerts = AlertStore(logger: platform.logger)
        guard let alert = try await alerts.get(alertID, lock: true, on: connection) else {
            return .failure(.init(byBlock: ["title": "The alert no longer exists."]))
        }
        if let known = try await knownEntry(alert, on: connection) {
            return .failure(.init(byBlock: ["title": "Already in the knowledge base as “\(known.title)”."]))
        }
        let input: IncidentInput
        switch SlackKnowledgeModal.entry(from: values, alert: alert) {
        case .failure(let errors): return .failure(errors)
        case .success(let checked): input = checked
        }
        return .success(try await AlertKnowledge(platform: platform).record(input, for: alert, by: actor, source: "slack", on: connection))
    }

    func knownEntry(_ alert: Alert, on connection: PostgresConnection) async throws -> Incident? {
        try await AlertKnowledge(platform: platform).knownEntry(alert, on: connection)
    }

    func publicBase(_ tenant: Tenant) async throws -> String? {
        try await platform.tenantConfig.setting("public_base_url", tenantID: tenant.id)?.stringValue ?? platform.config.publicURL
    }

    static func incidentLink(_ base: String, _ id: UUID) -> String { "\(base)/api/v1/incidents/\(id.uuidString.lowercased())" }

    enum DirectCall: Sendable {
        case openView
        /// An interaction's `response_url`.
        case respond(String)

        var method: String {
            switch self {
            case .openView: "slack_modal"
            case .respond: "slack_response"
            }
        }
    }

    /// A call to Slack made from the request (live mode) or only recorded (sandbox), and kept in the outbox either way
    /// so that the notifications page shows it. A failure is recorded and logged; the person can press again.
    func callSlackNow(_ call: DirectCall, body: JSONValue, alert: UUID?, slackUser: String, tenant: Tenant, key: String) async throws {
        let settings = try await ProviderSettings.load(platform.tenantConfig, tenant: tenant, defaults: platform.config.providerModes)
        let mode = settings.mode(for: .slackDM)
        var status = mode == .live ? "sent" : "sandboxed"
        var error: String?
        var reference: String?
        if mode == .live {
            switch try await liveCall(call, body: body, tenant: tenant) {
            case .delivered(let ref): reference = ref
            case .retryable(let message, _), .permanent(let message): status = "failed"; error = message
            }
        }
        let instant = now()
        _ = try await platform.database.withTenant(tenant.slug) { connection in
            try await connection.query("""
                INSERT INTO notification_outbox (idempotency_key, alert_id, provider, method, mode, recipient, payload, status, attempts,
                                                 next_attempt_at, last_error, provider_reference, created_at, sent_at)
                VALUES (\(key), \(alert), 'slack', \(call.method), \(mode.rawValue), \(slackUser), \(JSONValue.object(["slack_call": body]).jsonText())::jsonb,
                        \(status), \(mode == .live ? 1 : 0), \(instant), \(error), \(reference), \(instant), \(status == "failed" ? nil : instant))
                ON CONFLICT (idempotency_key) DO NOTHING
                """, logger: platform.logger)
        }
        if let error { platform.logger.warning("a Slack call failed", metadata: ["method": .string(call.method), "error": .string(error)]) }
    }

    private func liveCall(_ call: DirectCall, body: JSONValue, tenant: Tenant) async throws -> DeliveryOutcome {
        var sender = LiveNotificationSender(http: platform.httpClient, config: platform.tenantConfig, publicURL: nil, clock: platform.clock)
        sender.timeout = .seconds(2)
        let base = try await sender.setting("slack_api_url", tenant) ?? "https://slack.com/api"
        switch call {
        case .openView:
            guard let token = try await platform.tenantConfig.secret("slack_bot_token", tenantID: tenant.id) else {
                return .permanent("slack_bot_token is not configured")
            }
            do {
                switch try await sender.slackCall(base + "/views.open", token: token, body: body) {
                case .success(let json): return .delivered(reference: json.objectValue?["view"]?.objectValue?["id"]?.stringValue)
                case .failure(let outcome): return outcome
                }
            } catch { return .retryable("\(error)", retryAfter: nil) }
        case .respond(let url):
            // Only Slack's own response URLs (or the configured API's host, where tests run a local Slack).
            guard Self.isSlackResponseURL(url, apiBase: base) else { return .permanent("not a Slack response_url: \(url)") }
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
            request.body = .bytes(ByteBuffer(string: body.jsonText()))
            do {
                let response = try await platform.httpClient.execute(request, timeout: .seconds(2))
                _ = try await response.body.collect(upTo: 64 * 1024)
                return (200..<300).contains(Int(response.status.code)) ? .delivered(reference: nil) : .permanent("response_url answered \(response.status.code)")
            } catch { return .retryable("\(error)", retryAfter: nil) }
        }
    }

    /// `https://hooks.slack.com/…`, or a URL on the scheme and host of the tenant's `slack_api_url`.
    static func isSlackResponseURL(_ url: String, apiBase: String) -> Bool {
        guard let target = URLComponents(string: url), let host = target.host?.lowercased(), let scheme = target.scheme?.lowercased() else { return false }
        if scheme == "https", host == "hooks.slack.com" { return true }
        guard let api = URLComponents(string: apiBase) else { return false }
        return api.scheme?.lowercased() == scheme && api.host?.lowercased() == host && api.port == target.port
    }
}
