import Foundation
import Hummingbird
import OwlCore

/// Slack's interactive buttons on alert messages (Acknowledge, Escalate) at `/api/v1/slack/interactions?tenant=`.
/// Every request must pass Slack's v0 signature check with the tenant's signing secret, and be at most five minutes
/// old (replays are refused); otherwise 403.
struct SlackRoutes {
    let platform: Platform
    var now: @Sendable () -> Date = { Date() }

    func register(on routes: OwlRouter) {
        routes.signed(.post, "/api/v1/slack/interactions", interactions)
    }

    @Sendable func interactions(_ request: Request, _ context: OwlRequestContext) async throws -> Response {
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
        let form = Dictionary(FormEncoding.decode(body), uniquingKeysWith: { first, _ in first })
        guard let payload = form["payload"].flatMap(JSONValue.parse)?.objectValue,
              case .array(let actions)? = payload["actions"], let action = actions.first?.objectValue,
              let actionID = action["action_id"]?.stringValue else {
            throw APIError.badRequest("not a block_actions payload")
        }
        let slackUser = payload["user"]?.objectValue?["id"]?.stringValue ?? "unknown"
        let actor = try await actorName(slackUser, tenant: tenant)
        let ids = [action["value"]?.stringValue.flatMap(UUID.init(uuidString:))].compactMap { $0 }
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

    /// The person's email when their Slack id is known, else `slack:<id>`.
    func actorName(_ slackUser: String, tenant: Tenant) async throws -> String {
        try await platform.database.withTenant(tenant.slug) { connection in
            for try await email in try await connection.query("SELECT email FROM users WHERE slack_user_id = \(slackUser) AND is_active",
                                                              logger: platform.logger).decode(String.self) { return email }
            return "slack:\(slackUser)"
        }
    }
}

/// Slack's request signing: `v0=` and the hex HMAC-SHA256 of `v0:<timestamp>:<body>` with the signing secret.
enum SlackSignature {
    static let maximumAge: TimeInterval = 300

    static func sign(body: String, timestamp: String, secret: String) -> String {
        "v0=" + HMACSHA256.hex("v0:\(timestamp):\(body)", key: secret)
    }

    static func isValid(body: String, timestamp: String, signature: String, secret: String, now: Date) -> Bool {
        guard let seconds = TimeInterval(timestamp), abs(now.timeIntervalSince1970 - seconds) <= maximumAge else { return false }
        return ConstantTime.equal(sign(body: body, timestamp: timestamp, secret: secret), signature)
    }
}
