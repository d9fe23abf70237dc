import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import OwlCore
import OwlTestSupport
import PostgresNIO
import Testing
@testable import NightOwl

/// "Add to Knowledge Base" from Slack: the prompt after a resolution, the modal (`views.open`, pre-filled from the
/// alert), its submission (`view_submission`: the entry, or errors by block), Skip, and the channel's message.
@Suite struct SlackKnowledgeTests {
    static let secret = "kb-signing-secret"

    static func alert(title: String = "Payments API down", notes: String? = "restarted the gateway") -> Alert {
        let at = Date(timeIntervalSince1970: 1_700_000_000)
        return Alert(id: UUID(), fingerprint: "fp-payments", status: .resolved, severity: .critical, source: "generic", title: title,
                     description: "5xx from the gateway", labels: .object([:]), annotations: .object([:]), service: "payments",
                     cluster: "prod-1", namespace: "api", runbookURL: nil, generatorURL: nil, occurrenceCount: 1, firstFiredAt: at,
                     lastFiredAt: at, acknowledgedBy: nil, acknowledgedAt: nil, resolvedBy: "anna@example.com", resolvedAt: at,
                     resolutionNotes: notes, matchedIncidentID: nil, suggestedSolution: nil, enrichmentSource: nil, agentMetadata: nil,
                     createdAt: at)
    }

    /// `view.state.values` as Slack sends them: block, then action, then the element's state.
    static func values(title: String? = "Payments API down", severity: String? = "critical", symptoms: String? = "5xx",
                       rootCause: String? = nil, solution: String? = "Restart the gateway pods") -> JSONValue {
        func text(_ value: String?) -> JSONValue {
            .object(["value": .object(["type": "plain_text_input", "value": value.map(JSONValue.string) ?? .null])])
        }
        let select: JSONValue = .object(["value": .object(["type": "static_select", "selected_option": severity.map {
            JSONValue.object(["text": .object(["type": "plain_text", "text": .string($0)]), "value": .string($0)])
        } ?? .null])])
        return .object(["title": text(title), "severity": select, "symptoms": text(symptoms), "root_cause": text(rootCause),
                        "solution": text(solution)])
    }

    @Test(arguments: [
        (values(), [String: String]()),
        (values(severity: nil), ["severity": "Choose a severity."]),
        (values(severity: "sev0"), ["severity": "Choose a severity."]),
        (values(solution: "   "), ["solution": "Say what fixed it: that is what the next person paged for this will read."]),
        (values(title: nil, solution: nil), ["title": "title must not be empty",
                                             "solution": "Say what fixed it: that is what the next person paged for this will read."]),
        (values(title: String(repeating: "x", count: 501)), ["title": "title must be at most 500 characters"]),
        (values(rootCause: "bad\u{0}byte"), ["root_cause": "root_cause contains control characters"]),
    ])
    func submittedValuesAreChecked(values: JSONValue, errors: [String: String]) throws {
        switch SlackKnowledgeModal.entry(from: values, alert: Self.alert()) {
        case .success(let input):
            #expect(errors.isEmpty)
            #expect(input.title == "Payments API down" && input.severity == .critical && input.solution == "Restart the gateway pods")
            // The alert's identity goes with the entry, so that the next alert like it is matched.
            #expect(input.fingerprints == ["fp-payments"] && input.services == ["payments"] && input.clusters == ["prod-1"] && input.namespaces == ["api"])
        case .failure(let found):
            #expect(found.byBlock == errors)
        }
    }

    @Test func theModalIsPrefilledFromTheAlert() throws {
        let alert = Self.alert()
        let context = SlackKnowledgeModal.Context(alertID: alert.id, responseURL: "https://hooks.slack.com/actions/T1/2/x")
        let view = try #require(SlackKnowledgeModal.view(for: alert, context: context).objectValue)
        #expect(view["type"]?.stringValue == "modal" && view["callback_id"]?.stringValue == SlackKnowledgeModal.callbackID)
        // Slack's limits: a title of at most 24 characters, metadata of at most 3,000.
        #expect((view["title"]?.objectValue?["text"]?.stringValue?.count ?? 99) <= 24)
        let metadata = try #require(view["private_metadata"]?.stringValue)
        #expect(metadata.count <= 3_000 && SlackKnowledgeModal.Context(metadata: metadata) == context)
        guard case .array(let blocks)? = view["blocks"] else { Issue.record("no blocks"); return }
        let inputs = blocks.compactMap { $0.objectValue }.filter { $0["type"]?.stringValue == "input" }
        #expect(inputs.compactMap { $0["block_id"]?.stringValue } == SlackKnowledgeModal.fields)
        func element(_ block: String) -> [String: JSONValue]? {
            inputs.first { $0["block_id"]?.stringValue == block }?["element"]?.objectValue
        }
        #expect(element("title")?["initial_value"]?.stringValue == "Payments API down")
        #expect(element("severity")?["initial_option"]?.objectValue?["value"]?.stringValue == "critical")
        #expect(element("symptoms")?["initial_value"]?.stringValue == "5xx from the gateway")
        #expect(element("solution")?["initial_value"]?.stringValue == "restarted the gateway")
        #expect(element("root_cause")?["initial_value"] == nil)
        #expect(JSONValue.object(view).jsonText().contains("fingerprint `fp-payments`"))
        // Without resolution notes, the solution starts empty; a long title is cut to what the entry can hold.
        let bare = SlackKnowledgeModal.view(for: Self.alert(title: String(repeating: "t", count: 700), notes: nil), context: context)
        #expect(!bare.jsonText().contains("restarted") && bare.jsonText().contains(String(repeating: "t", count: 500) + "\""))
        #expect(SlackKnowledgeModal.Context(metadata: "not json") == nil && SlackKnowledgeModal.Context(metadata: #"{"alert_id":"x"}"#) == nil)
    }

    @Test(arguments: [
        ("https://hooks.slack.com/actions/T1/2/x", "https://slack.com/api", true),
        ("http://hooks.slack.com/actions/T1/2/x", "https://slack.com/api", false),
        ("https://evil.example.com/actions", "https://slack.com/api", false),
        ("https://hooks.slack.com.evil.example.com/x", "https://slack.com/api", false),
        ("http://127.0.0.1:8123/actions/1", "http://127.0.0.1:8123/api", true),
        ("http://127.0.0.1:9999/actions/1", "http://127.0.0.1:8123/api", false),
        ("not a url", "https://slack.com/api", false),
    ])
    func onlySlacksResponseURLsAreCalled(url: String, base: String, allowed: Bool) {
        #expect(SlackRoutes.isSlackResponseURL(url, apiBase: base) == allowed)
    }

    @Test(arguments: [(AlertStatus.resolved, false as Bool?, true), (.resolved, true, false), (.resolved, nil, false), (.acknowledged, false, false)])
    func aResolvedUnknownAlertsMessageOffersTheKnowledgeBase(status: AlertStatus, known: Bool?, offered: Bool) {
        let message = AlertMessages.slackFollowUp(SlackFollowUpTests.notice, status: status, by: nil, at: nil, channel: "C0", ts: "1.2", known: known)
        #expect(message.jsonText().contains(SlackKnowledgeModal.openAction) == offered)
        #expect(message.jsonText().contains("the knowledge base has no entry for it yet") == offered)
        #expect(message.jsonText().contains("view_runbook"), "the runbook link stays")
    }

    // MARK: Through the API

    /// A block action as Slack sends it from the ephemeral reply of `/nightowl resolve`.
    static func press(_ action: String, alert: UUID, as user: String = "U0ANNA", responseURL: String, trigger: String = "1337.42.abcd") -> String {
        JSONValue.object([
            "type": "block_actions", "user": .object(["id": .string(user)]), "trigger_id": .string(trigger),
            "response_url": .string(responseURL), "container": .object(["type": "message", "is_ephemeral": true]),
            "actions": .array([.object(["action_id": .string(action), "value": .string(alert.uuidString.lowercased()), "type": "button"])]),
        ]).jsonText()
    }

    static func submission(metadata: String, values: JSONValue, as user: String = "U0ANNA") -> String {
        JSONValue.object([
            "type": "view_submission", "user": .object(["id": .string(user)]),
            "view": .object(["id": "V0MODAL", "type": "modal", "callback_id": .string(SlackKnowledgeModal.callbackID),
                             "private_metadata": .string(metadata), "state": .object(["values": values])]),
        ]).jsonText()
    }

    static func interact(_ client: some TestClientProtocol, _ s: EscalationScenario, _ payload: String) async throws -> TestResponse {
        try await s.slackPost(client, "interactions", form: [("payload", payload)], secret: secret)
    }

    static func incidentsWithFingerprint(_ s: EscalationScenario, _ fingerprint: String) async throws -> [(String, Int, String)] {
        try await s.f.app.database.withTenant(s.f.tenant.slug) { connection in
            var rows: [(String, Int, String)] = []
            for try await row in try await connection.query("""
                SELECT title, resolution_count, created_by FROM incidents WHERE \(fingerprint) = ANY(fingerprints)
                """, logger: TestDatabase.logger).decode((String, Int, String).self) { rows.append(row) }
            return rows
        }
    }

    @Test func resolvingFromSlackLeadsToAKnowledgeBaseEntry() async throws {
        let fake = FakeProviders()
        try await fake.application().test(.live) { server in
            let s = try await EscalationScenario.make()
            let base = "http://127.0.0.1:\(try #require(server.port))"
            let responseURL = "\(base)/actions/T0001/77/secret"
            _ = try await s.liveSlack(apiBase: "\(base)/api", signingSecret: Self.secret, DrivenClock(Date()))
            try await s.f.app.test { client in
                let viewer = try await client.call(.post, "/api/v1/users", key: s.f.key, json: #"""
                    {"email":"viewer-\#(UUID().uuidString.prefix(6))@example.com","display_name":"Viewer","role":"readonly","slack_user_id":"U0VIEWER"}
                    """#)
                #expect(viewer.status == .created)
                let id = s.alertID.uuidString.lowercased()
                let fingerprint = try #require(try await client.call(.get, "/api/v1/alerts/\(id)", key: s.f.key).json["fingerprint"]?.stringValue)

                // The resolution from Slack prompts for the knowledge base.
                let resolved = try await SlackCommandTests.run(client, s, "resolve \(id.prefix(8)) rolled back release 42", secret: Self.secret)
                #expect(resolved.text.contains(SlackKnowledgeModal.openAction) && resolved.text.contains("resolved by <@U0ANNA>"), "\(resolved.text)")

                // The button opens the modal at once, pre-filled, with the bot token.
                let opened = try await Self.interact(client, s, Self.press(SlackKnowledgeModal.openAction, alert: s.alertID, responseURL: responseURL))
                #expect(opened.status == .ok, "\(opened.text)")
                let call = try #require(fake.seen.withLockedValue { $0.last })
                #expect(call.path == "/api/views.open" && call.headers["authorization"] == "Bearer xoxb-test")
                let open = try #require(JSONValue.parse(call.body)?.objectValue)
                #expect(open["trigger_id"]?.stringValue == "1337.42.abcd")
                let view = try #require(open["view"]?.objectValue)
                #expect(view["callback_id"]?.stringValue == SlackKnowledgeModal.callbackID)
                #expect(call.body.contains(#""initial_value":"rolled back release 42""#) && call.body.contains(#""initial_value":"Payments API down""#))
                let metadata = try #require(view["private_metadata"]?.stringValue)
                #expect(SlackKnowledgeModal.Context(metadata: metadata) == .init(alertID: s.alertID, responseURL: responseURL))

                // A readonly member cannot add; nothing is stored.
                let refused = try await Self.interact(client, s, Self.submission(metadata: metadata, values: Self.values(), as: "U0VIEWER"))
                #expect(refused.json["response_action"]?.stringValue == "errors" && refused.json["errors"]?["title"]?.stringValue == SlackRoutes.knowledgeRefusal)
                // Errors are shown under their fields; nothing is stored.
                let incomplete = try await Self.interact(client, s, Self.submission(metadata: metadata, values: Self.values(severity: nil, solution: "")))
                #expect(incomplete.status == .ok && incomplete.json["response_action"]?.stringValue == "errors", "\(incomplete.text)")
                #expect(incomplete.json["errors"]?["severity"] != nil && incomplete.json["errors"]?["solution"] != nil)
                #expect(try await Self.incidentsWithFingerprint(s, fingerprint).isEmpty)

                let saved = try await Self.interact(client, s, Self.submission(metadata: metadata, values: Self.values(
                    title: "Payments gateway stuck after release", solution: "Roll back the release, then restart the gateway pods")))
                #expect(saved.status == .ok && saved.json["response_action"]?.stringValue == "update", "\(saved.text)")
                #expect(saved.text.contains("https://owl.example.com/api/v1/incidents/"))
                let stored = try await Self.incidentsWithFingerprint(s, fingerprint)
                #expect(stored.count == 1 && stored.first?.0 == "Payments gateway stuck after release" && stored.first?.1 == 1)
                #expect(stored.first?.2.hasPrefix("anna-") == true, "created by the linked user")
                let alert = try await client.call(.get, "/api/v1/alerts/\(id)", key: s.f.key)
                #expect(alert.json["matched_incident_id"]?.stringValue != nil && alert.json["enrichment_source"]?.stringValue == "slack")
                #expect(alert.json["suggested_solution"]?.stringValue == "Roll back the release, then restart the gateway pods")
                // The ephemeral prompt is replaced through its response URL.
                let replaced = try #require(fake.seen.withLockedValue { $0.last })
                #expect(replaced.path == "/actions/T0001/77/secret" && replaced.body.contains(#""replace_original":true"#))
                #expect(replaced.body.contains("Added to the knowledge base: Payments gateway stuck after release"))
                await s.f.app.platform.audit.flush()
                let audit = try await client.call(.get, "/api/v1/audit-log?resource=incident", key: s.f.key)
                #expect(audit.text.contains("incident.create") && audit.text.contains(#""actor_type":"slack""#), "\(audit.text.prefix(400))")

                // Twice is refused (no duplicate), and the button now shows the entry instead of the form.
                let again = try await Self.interact(client, s, Self.submission(metadata: metadata, values: Self.values()))
                #expect(again.json["errors"]?["title"]?.stringValue?.hasPrefix("Already in the knowledge base") == true)
                #expect(try await Self.incidentsWithFingerprint(s, fingerprint).count == 1)
                _ = try await Self.interact(client, s, Self.press(SlackKnowledgeModal.openAction, alert: s.alertID, responseURL: responseURL,
                                                                  trigger: "1337.43.efgh"))
                let known = try #require(fake.seen.withLockedValue { $0.last })
                #expect(known.path == "/api/views.open" && known.body.contains("Already known") && !known.body.contains(SlackKnowledgeModal.callbackID))

                // Skip replaces the prompt; a response URL that is not Slack's is never called, only recorded as failed.
                let calls = fake.seen.withLockedValue { $0.count }
                _ = try await Self.interact(client, s, Self.press(SlackKnowledgeModal.skipAction, alert: s.alertID, responseURL: responseURL + "2"))
                let skipped = try #require(fake.seen.withLockedValue { $0.last })
                #expect(skipped.path == "/actions/T0001/77/secret2" && skipped.body.contains("Skipped"))
                _ = try await Self.interact(client, s, Self.press(SlackKnowledgeModal.skipAction, alert: s.alertID, responseURL: "https://evil.example.com/x"))
                #expect(fake.seen.withLockedValue { $0.count } == calls + 1)
                let recorded = try await client.call(.get, "/api/v1/notifications?alert_id=\(id)&limit=50", key: s.f.key)
                let direct = (recorded.json["items"]?.arrayValue ?? []).filter { ($0["method"]?.stringValue ?? "").hasPrefix("slack_") &&
                    ["slack_modal", "slack_response"].contains($0["method"]?.stringValue ?? "") }
                #expect(direct.map { "\($0["method"]?.stringValue ?? "") \($0["status"]?.stringValue ?? "")" }.sorted() ==
                        ["slack_modal sent", "slack_modal sent", "slack_response failed", "slack_response sent", "slack_response sent"], "\(recorded.text.prefix(600))")
            }
        }
    }

    /// Without a live Slack the modal is recorded, not opened, for the notifications page to show.
    @Test func theSandboxRecordsTheModal() async throws {
        let s = try await EscalationScenario.make()
        try await s.f.app.test { client in
            _ = try await client.call(.put, "/api/v1/admin/config", key: s.f.key, json: #"{"secrets":{"slack_signing_secret":"\#(Self.secret)"}}"#)
            let opened = try await Self.interact(client, s, Self.press(SlackKnowledgeModal.openAction, alert: s.alertID,
                                                                       responseURL: "https://hooks.slack.com/actions/T1/2/x"))
            #expect(opened.status == .ok)
            let recorded = try await client.call(.get, "/api/v1/notifications?alert_id=\(s.alertID.uuidString.lowercased())", key: s.f.key)
            let modal = (recorded.json["items"]?.arrayValue ?? []).first { $0["method"]?.stringValue == "slack_modal" }
            #expect(modal?["status"]?.stringValue == "sandboxed" && modal?["mode"]?.stringValue == "sandbox")
            #expect(modal?["payload"]?["slack_call"]?["view"]?["callback_id"]?.stringValue == SlackKnowledgeModal.callbackID)
            // A payload without a trigger, or for no alert, is a 400.
            let noTrigger = #"{"type":"block_actions","user":{"id":"U0ANNA"},"actions":[{"action_id":"create_incident_modal","value":"\#(s.alertID)"}]}"#
            #expect(try await Self.interact(client, s, noTrigger).status == .badRequest)
            let noAlert = Self.press(SlackKnowledgeModal.openAction, alert: UUID(), responseURL: "https://hooks.slack.com/x")
            #expect(try await Self.interact(client, s, noAlert).status == .badRequest)
            let foreign = Self.submission(metadata: #"{"alert_id":"\#(UUID())"}"#, values: Self.values())
            #expect(try await Self.interact(client, s, foreign).json["errors"]?["title"]?.stringValue == "The alert no longer exists.")
        }
    }

    /// The channel's message of an alert resolved outside Slack offers the button; once the entry exists, the message
    /// is followed up again without it.
    @Test func theAlertsMessageOffersTheKnowledgeBaseUntilItKnows() async throws {
        let fake = FakeProviders()
        try await fake.application().test(.live) { server in
            let s = try await EscalationScenario.make()
            let base = "http://127.0.0.1:\(try #require(server.port))"
            let clock = DrivenClock(s.firedAt.addingTimeInterval(1))
            let dispatcher = try await s.liveSlack(apiBase: "\(base)/api", signingSecret: Self.secret, clock)
            _ = try await s.engine(clock).tick(s.f.tenant)
            _ = try await dispatcher.drain(s.f.tenant)
            try await s.f.app.test { client in
                let resolved = try await client.call(.patch, "/api/v1/alerts/\(s.alertID)/resolve", key: s.f.key)
                #expect(resolved.json["kb_prompt"]?.boolValue == true, "\(resolved.text)")
            }
            clock.advance(to: Date().addingTimeInterval(1))
            _ = try await dispatcher.drain(s.f.tenant)
            let update = try #require(fake.seen.withLockedValue { $0.last })
            #expect(update.path == "/api/chat.update" && update.body.contains(SlackKnowledgeModal.openAction), "\(update.body)")

            try await s.f.app.test { client in
                // Pressed on the channel's message (not ephemeral): no response URL is kept, the message is followed up.
                var press = JSONValue.parse(Self.press(SlackKnowledgeModal.openAction, alert: s.alertID, responseURL: "\(base)/actions/1"))!.objectValue!
                press["container"] = .object(["type": "message", "is_ephemeral": false, "channel_id": "C0CHAN"])
                #expect(try await Self.interact(client, s, JSONValue.object(press).jsonText()).status == .ok)
                let opened = try #require(JSONValue.parse(fake.seen.withLockedValue { $0.last?.body } ?? "")?["view"]?["private_metadata"]?.stringValue)
                #expect(SlackKnowledgeModal.Context(metadata: opened)?.responseURL == nil)
                let saved = try await Self.interact(client, s, Self.submission(metadata: opened, values: Self.values()))
                #expect(saved.json["response_action"]?.stringValue == "update", "\(saved.text)")
            }
            let seen = fake.seen.withLockedValue { $0.count }
            clock.advance(to: Date().addingTimeInterval(2))
            _ = try await dispatcher.drain(s.f.tenant)
            let again = try #require(fake.seen.withLockedValue { $0.last })
            #expect(fake.seen.withLockedValue { $0.count } == seen + 1)
            #expect(again.path == "/api/chat.update" && !again.body.contains(SlackKnowledgeModal.openAction) && again.body.contains("RESOLVED"))
        }
    }
}
