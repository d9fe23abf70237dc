import Foundation
import OwlCore
import OwlTestSupport
import Testing
@testable import NightOwl

/// The Slack app manifest a tenant's admin pastes into Slack: every request URL at the tenant's address, the scopes
/// NightOwl's calls need, the events it reads.
@Suite struct SlackManifestTests {
    static let slug = TenantSlug("acme")!

    @Test func theManifestPointsEveryFeatureAtTheTenant() throws {
        let manifest = SlackAppManifest.manifest(base: "https://owl.example.com", tenant: Self.slug)
        let command = try #require(manifest["features"]?["slash_commands"]?.arrayValue?.first)
        #expect(command["command"]?.stringValue == "/nightowl")
        #expect(command["url"]?.stringValue == "https://owl.example.com/api/v1/slack/commands?tenant=acme")
        #expect(manifest["settings"]?["interactivity"]?["request_url"]?.stringValue == "https://owl.example.com/api/v1/slack/interactions?tenant=acme")
        #expect(manifest["settings"]?["interactivity"]?["is_enabled"]?.boolValue == true)
        #expect(manifest["settings"]?["event_subscriptions"]?["request_url"]?.stringValue == "https://owl.example.com/api/v1/slack/events?tenant=acme")
        // The events the handler reads, and the scopes they need; posting, DMs and commands.
        let events = manifest["settings"]?["event_subscriptions"]?["bot_events"]?.arrayValue?.compactMap(\.stringValue)
        #expect(events == ["app_mention", "message.im"])
        let scopes = Set(manifest["oauth_config"]?["scopes"]?["bot"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        #expect(scopes == ["chat:write", "chat:write.public", "commands", "im:write", "app_mentions:read", "im:history"])
        // People can write to the bot (message.im needs the messages tab).
        #expect(manifest["features"]?["app_home"]?["messages_tab_enabled"]?.boolValue == true)
        // Slack's limits: a description of at most 139 characters, a command description of at most 100.
        #expect((manifest["display_information"]?["description"]?.stringValue?.count ?? 200) <= 139)
        #expect((command["description"]?.stringValue?.count ?? 200) <= 100)
    }

    @Test func theCreateLinkCarriesTheManifest() throws {
        let manifest = SlackAppManifest.manifest(base: "https://owl.example.com", tenant: Self.slug)
        let link = try #require(URLComponents(string: SlackAppManifest.createURL(manifest)))
        #expect(link.host == "api.slack.com" && link.path == "/apps")
        let carried = link.queryItems?.first { $0.name == "manifest_json" }?.value
        #expect(carried.flatMap(JSONValue.parse) == manifest)
        #expect(link.queryItems?.first { $0.name == "new_app" }?.value == "1")
    }

    @Test(arguments: [
        ("https://owl.example.com", 0),
        ("http://owl.example.com", 1),
        ("http://127.0.0.1:8080", 2),
        ("https://owl.local", 1),
        ("not a url", 1),
    ])
    func warningsSayWhatSlackCannotReach(base: String, count: Int) {
        #expect(SlackAppManifest.warnings(base: base).count == count)
    }

    @Test func adminsGetTheirTenantsManifest() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let local = try await client.call(.get, "/api/v1/slack/manifest", key: f.key)
            #expect(local.status == .ok, "\(local.text)")
            #expect(local.json["warnings"]?.arrayValue?.isEmpty == false, "without a public address Slack cannot reach it")
            _ = try await client.call(.put, "/api/v1/admin/config", key: f.key, json: #"{"settings":{"public_base_url":"https://owl.example.com/"}}"#)
            let configured = try await client.call(.get, "/api/v1/slack/manifest", key: f.key)
            let url = configured.json["manifest"]?["settings"]?["event_subscriptions"]?["request_url"]?.stringValue
            #expect(url == "https://owl.example.com/api/v1/slack/events?tenant=\(f.tenant.slug.value)")
            #expect(configured.json["warnings"]?.arrayValue?.isEmpty == true, "\(configured.text)")
            #expect(configured.json["create_url"]?.stringValue?.hasPrefix("https://api.slack.com/apps?new_app=1&manifest_json=") == true)
        }
    }
}
