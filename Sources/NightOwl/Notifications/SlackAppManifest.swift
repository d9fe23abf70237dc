import Foundation
import OwlCore

/// The Slack app a tenant installs, as a Slack app manifest: the `/nightowl` command, interactivity (buttons and the
/// knowledge-base modal) and the Events API (mentions, DMs), each pointing at this tenant's URL, and the bot scopes
/// that NightOwl's calls need. Pasted into "Create New App → From a manifest", it leaves only the install and the two
/// secrets to copy (`slack_bot_token`, `slack_signing_secret`).
enum SlackAppManifest {
    /// What each scope is for: `chat.postMessage`/`chat.update` (messages, edits, thread notes), posting to public
    /// channels the bot was not invited to (alert channels), the slash command, `conversations.open` (DMs to the
    /// person paged), and the two event subscriptions.
    static let botScopes = ["chat:write", "chat:write.public", "commands", "im:write", "app_mentions:read", "im:history"]
    static let botEvents = ["app_mention", "message.im"]

    static func manifest(base: String, tenant: TenantSlug, name: String = "NightOwl") -> JSONValue {
        func url(_ path: String) -> JSONValue { .string("\(base)/api/v1/slack/\(path)?tenant=\(tenant.value)") }
        return .object([
            "_metadata": .object(["major_version": 1, "minor_version": 1]),
            "display_information": .object([
                "name": .string(name),
                "description": "Alerts, on-call and the knowledge base: acknowledge, escalate and resolve from Slack.",
                "background_color": "#1d2433",
            ]),
            "features": .object([
                "app_home": .object(["home_tab_enabled": false, "messages_tab_enabled": true, "messages_tab_read_only_enabled": false]),
                "bot_user": .object(["display_name": .string(name), "always_online": true]),
                "slash_commands": .array([.object([
                    "command": "/nightowl", "url": url("commands"), "should_escape": false,
                    "description": "Search the knowledge base, see who is on call, acknowledge or resolve an alert",
                    "usage_hint": "search <query> | oncall [roster] | roster [name] | ack <alert-id> | resolve <alert-id> [notes]",
                ])]),
            ]),
            "oauth_config": .object(["scopes": .object(["bot": .array(botScopes.map(JSONValue.string))])]),
            "settings": .object([
                "event_subscriptions": .object(["request_url": url("events"), "bot_events": .array(botEvents.map(JSONValue.string))]),
                "interactivity": .object(["is_enabled": true, "request_url": url("interactions")]),
                "org_deploy_enabled": false, "socket_mode_enabled": false, "token_rotation_enabled": false,
            ]),
        ])
    }

    /// Opens Slack's "create an app" page with the manifest filled in.
    static func createURL(_ manifest: JSONValue) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encoded = manifest.jsonText().addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
        return "https://api.slack.com/apps?new_app=1&manifest_json=\(encoded)"
    }

    /// What would stop Slack from accepting or reaching the URLs.
    static func warnings(base: String) -> [String] {
        guard let url = URLComponents(string: base), let host = url.host?.lowercased() else { return ["\(base) is not a URL"] }
        var warnings: [String] = []
        if url.scheme?.lowercased() != "https" {
            warnings.append("Slack calls only https:// request URLs: set the tenant's public_base_url (or NIGHTOWL_PUBLIC_URL) to the HTTPS address Slack reaches NightOwl at.")
        }
        if ["localhost", "127.0.0.1", "::1", "[::1]"].contains(host) || host.hasSuffix(".local") {
            warnings.append("\(host) cannot be reached from Slack: NightOwl must be reachable from the internet at public_base_url.")
        }
        return warnings
    }
}
