import Foundation
import Hummingbird
import OwlCore

/// An Events API delivery, as far as NightOwl acts on it (spec: workflows 1.1, `app_mention` and `message.im`).
enum SlackEvent: Equatable, Sendable {
    /// Slack checking the request URL: answered with the challenge.
    case urlVerification(challenge: String)
    /// A member asking something: a mention in a channel (answered in its thread) or a direct message.
    case request(eventID: String, user: String, text: String, channel: String, thread: String?)
    /// Anything else, answered 200 so that Slack does not retry it: the bot's own messages (which would answer
    /// themselves forever), edits and other subtypes, channel messages that do not mention the bot.
    case ignored

    static func parse(_ payload: JSONValue) -> SlackEvent? {
        guard let outer = payload.objectValue, let type = outer["type"]?.stringValue else { return nil }
        if type == "url_verification" { return outer["challenge"]?.stringValue.map { .urlVerification(challenge: $0) } }
        guard type == "event_callback", let eventID = outer["event_id"]?.stringValue, !eventID.isEmpty,
              let event = outer["event"]?.objectValue, let kind = event["type"]?.stringValue else { return nil }
        guard event["bot_id"] == nil, event["subtype"] == nil, let user = event["user"]?.stringValue, !user.isEmpty,
              let channel = event["channel"]?.stringValue, !channel.isEmpty, let ts = event["ts"]?.stringValue else { return .ignored }
        let text = event["text"]?.stringValue ?? ""
        let thread = event["thread_ts"]?.stringValue
        switch kind {
        case "app_mention": return .request(eventID: eventID, user: user, text: commandText(text), channel: channel, thread: thread ?? ts)
        case "message" where event["channel_type"]?.stringValue == "im":
            return .request(eventID: eventID, user: user, text: commandText(text), channel: channel, thread: thread)
        default: return .ignored
        }
    }

    /// The words after the mentions that address the bot (`<@U0BOT> oncall ops` → `oncall ops`).
    static func commandText(_ text: String) -> String {
        var rest = Substring(text).drop { $0.isWhitespace }
        while rest.hasPrefix("<@"), let end = rest.firstIndex(of: ">") {
            rest = rest[rest.index(after: end)...].drop { $0.isWhitespace || $0 == ":" || $0 == "," }
        }
        return String(rest).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// `/api/v1/slack/events?tenant=`: a mention of the app in a channel, or a direct message to it, is read as a
/// `/nightowl` command (`@NightOwl oncall ops`, `ack 6f1c2a7e`), with the same rules (linked members only, engineers
/// to change alerts). The answer goes through the outbox: in the mention's thread, or in the DM. Slack retries a
/// delivery it thinks failed; the answer is keyed by the event's id, so a retry answers nothing twice.
extension SlackRoutes {
    @Sendable func events(_ request: Request, _ context: OwlRequestContext) async throws -> Response {
        let (tenant, body) = try await verifiedBody(request)
        guard let payload = JSONValue.parse(body), let event = SlackEvent.parse(payload) else {
            throw APIError.badRequest("not an Events API payload (url_verification or event_callback with an event_id)")
        }
        switch event {
        case .urlVerification(let challenge): return try JSON.response(["challenge": challenge])
        case .ignored: return Response(status: .ok)
        case .request(let eventID, let user, let text, let channel, let thread):
            let key = "slack-event:\(eventID)"
            let seen = try await platform.database.withTenant(tenant.slug) { connection in
                for try await _ in try await connection.query("SELECT 1 FROM notification_outbox WHERE idempotency_key = \(key)",
                                                              logger: platform.logger) { return true }
                return false
            }
            if seen { return Response(status: .ok) }
            guard case .object(var message) = try await reply(to: text, from: user, tenant: tenant, context: context) else {
                return Response(status: .ok)
            }
            message["response_type"] = nil
            if let thread { message["thread_ts"] = .string(thread) }
            let settings = try await ProviderSettings.load(platform.tenantConfig, tenant: tenant, defaults: platform.config.providerModes)
            try await platform.database.withTenant(tenant.slug) { connection in
                try await OutboxMessage.queue(.slackChannel, recipient: channel, payload: .object(["slack": .object(message)]), key: key,
                                              mode: settings.mode(for: .slackChannel), at: now(), on: connection, logger: platform.logger)
            }
            return Response(status: .ok)
        }
    }
}
