import AsyncHTTPClient
import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import OwlCore
import OwlTestSupport
import Testing
@testable import NightOwl

/// Local stand-ins for Slack, Mattermost, Twilio and a webhook receiver: they check the request format each provider
/// documents and answer as scripted (success, 500, 429 with Retry-After, a 4xx, or too slowly).
final class FakeProviders: Sendable {
    struct Seen: Sendable { var path: String; var headers: [String: String]; var body: String }
    enum Script: Sendable { case ok, serverError, rateLimited(Int), clientError, slow, slackError(String) }
    let seen = NIOLockedValueBox<[Seen]>([])
    let script = NIOLockedValueBox<[Script]>([])
    static let twilioSID = "AC0123456789abcdef0123456789abcdef"

    func next() -> Script { script.withLockedValue { $0.isEmpty ? .ok : $0.removeFirst() } }

    func application() -> some ApplicationProtocol {
        let router = Router()
        router.post("**") { [self] request, context -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let path = request.uri.path
            seen.withLockedValue { $0.append(Seen(path: path, headers: headers, body: body)) }
            switch next() {
            case .serverError: return Self.text(.internalServerError, "upstream broke")
            case .rateLimited(let seconds):
                return Response(status: .tooManyRequests, headers: [.retryAfter: String(seconds)], body: .init(byteBuffer: ByteBuffer(string: "slow down")))
            case .clientError: return Self.text(.badRequest, #"{"code":21211,"message":"The 'To' number is not a valid phone number."}"#)
            case .slow:
                try await Task.sleep(for: .seconds(3))
                return Self.text(.ok, "{}")
            case .slackError(let error): return Self.text(.ok, #"{"ok":false,"error":"\#(error)"}"#)
            case .ok: break
            }
            if path.hasSuffix("/conversations.open") { return Self.text(.ok, #"{"ok":true,"channel":{"id":"D0DIRECT"}}"#) }
            if path.hasSuffix("/chat.postMessage") {
                // A reply in a thread is a message of its own (its own ts) that names its thread; Slack needs the
                // thread's channel id for it.
                let post = JSONValue.parse(body)?.objectValue
                if let thread = post?["thread_ts"]?.stringValue {
                    guard let channel = post?["channel"]?.stringValue, channel.hasPrefix("C"), !thread.isEmpty else {
                        return Self.text(.ok, #"{"ok":false,"error":"channel_not_found"}"#)
                    }
                    return Self.text(.ok, #"{"ok":true,"channel":"\#(channel)","ts":"1700000001.000300","message":{"thread_ts":"\#(thread)"}}"#)
                }
                return Self.text(.ok, #"{"ok":true,"channel":"C0CHAN","ts":"1700000000.000100"}"#)
            }
            if path.hasSuffix("/chat.update") {
                // Slack answers with the message's channel and ts; it refuses an update without both.
                let update = JSONValue.parse(body)?.objectValue
                guard let channel = update?["channel"]?.stringValue, let ts = update?["ts"]?.stringValue else {
                    return Self.text(.ok, #"{"ok":false,"error":"invalid_arguments"}"#)
                }
                return Self.text(.ok, #"{"ok":true,"channel":"\#(channel)","ts":"\#(ts)"}"#)
            }
            if path.hasSuffix("/views.open") {
                // A modal needs a trigger and a view; Slack answers with the opened view and its id.
                let open = JSONValue.parse(body)?.objectValue
                guard open?["trigger_id"]?.stringValue?.isEmpty == false, open?["view"]?.objectValue?["type"]?.stringValue == "modal" else {
                    return Self.text(.ok, #"{"ok":false,"error":"invalid_arguments"}"#)
                }
                return Self.text(.ok, #"{"ok":true,"view":{"id":"V0MODAL","type":"modal"}}"#)
            }
            if path.hasSuffix("/Messages.json") { return Self.text(.created, #"{"sid":"SM0001","status":"queued"}"#) }
            if path.hasSuffix("/Calls.json") { return Self.text(.created, #"{"sid":"CA0001","status":"queued"}"#) }
            return Self.text(.ok, "ok")
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

@Suite struct LiveProviderTests {
    /// A tenant configured for live delivery to the fake providers on `port`.
    static func configured(port: Int) async throws -> (NightOwlFixture, LiveNotificationSender) {
        let f = try await NightOwlFixture.make()
        let base = "http://127.0.0.1:\(port)"
        let response = try await f.app.test { client in
            try await client.call(.put, "/api/v1/admin/config", key: f.key, json: #"""
                {"settings":{"slack_mode":"live","twilio_mode":"live","mattermost_mode":"live","webhook_mode":"live",
                             "slack_api_url":"\#(base)/api","twilio_api_url":"\#(base)","twilio_account_sid":"\#(FakeProviders.twilioSID)",
                             "twilio_from_number":"+4930100200","public_base_url":"https://owl.example.com"},
                 "secrets":{"slack_bot_token":"xoxb-test","twilio_auth_token":"tw-secret","mattermost_webhook_url":"\#(base)/hooks/abc",
                            "webhook_signing_secret":"wh-secret"}}
                """#)
        }
        #expect(response.status == .ok, "\(response.text)")
        var sender = LiveNotificationSender(http: HTTPClient.shared, config: f.app.platform.tenantConfig, publicURL: nil, clock: .system)
        sender.timeout = .seconds(1)
        return (f, sender)
    }

    static let notice = AlertNotice(alertID: UUID(), title: "Pod CrashLoopBackOff", severity: .critical, service: "payment-gateway",
                                    cluster: "production-de-01", namespace: "customer-api", solution: "Raise the memory limit",
                                    runbookURL: "https://owl.example.com/runbooks/1", onCallName: "Stefan", onCallSlackID: "U123456",
                                    tier: 0, repetition: 0, link: nil)

    static func bundle(_ method: NotificationMethod, to recipient: String) -> OutboundBundle {
        OutboundBundle(ids: [UUID()], alertIDs: [notice.alertID], method: method, mode: .live, recipient: recipient,
                       payloads: [OutboundPayload.render(method, notice: notice, recipient: recipient)])
    }

    @Test func eachProviderGetsItsDocumentedRequest() async throws {
        let fake = FakeProviders()
        try await fake.application().test(.live) { server in
            let (f, sender) = try await Self.configured(port: try #require(server.port))
            let slackOutcome = await sender.send(Self.bundle(.slackDM, to: "U123456"), tenant: f.tenant)
            #expect(slackOutcome == .delivered(reference: "C0CHAN:1700000000.000100"), "\(slackOutcome)")
            #expect(await sender.send(Self.bundle(.sms, to: "+4915100000009"), tenant: f.tenant) == .delivered(reference: "SM0001"))
            #expect(await sender.send(Self.bundle(.phone, to: "+4915100000009"), tenant: f.tenant) == .delivered(reference: "CA0001"))
            #expect(await sender.send(Self.bundle(.mattermost, to: "mattermost"), tenant: f.tenant) == .delivered(reference: nil))
            #expect(await sender.send(Self.bundle(.webhook, to: "http://127.0.0.1:\(server.port!)/receiver"), tenant: f.tenant) == .delivered(reference: nil))

            let seen = fake.seen.withLockedValue { $0 }
            #expect(seen.map(\.path) == ["/api/conversations.open", "/api/chat.postMessage",
                                         "/2010-04-01/Accounts/\(FakeProviders.twilioSID)/Messages.json",
                                         "/2010-04-01/Accounts/\(FakeProviders.twilioSID)/Calls.json", "/hooks/abc", "/receiver"])
            // Slack: bearer token, JSON, the DM channel from conversations.open, Block Kit with the three buttons.
            #expect(seen[0].headers["authorization"] == "Bearer xoxb-test")
            #expect(JSONValue.parse(seen[0].body)?.objectValue?["users"]?.stringValue == "U123456")
            let post = JSONValue.parse(seen[1].body)?.objectValue
            #expect(post?["channel"]?.stringValue == "D0DIRECT")
            let blocks = post?["blocks"]
            #expect(blocks?.jsonText().contains(#""text":"🔴 CRITICAL: Pod CrashLoopBackOff""#) == true)
            #expect(["ack_alert", "view_runbook", "escalate_alert"].allSatisfy { blocks?.jsonText().contains($0) == true })
            #expect(blocks?.jsonText().contains("*On-Call:* <@U123456> (Stefan)") == true)
            // Twilio: basic auth with the account SID, form-encoded To/From/Body, and TwiML that gathers one digit.
            let basic = "Basic " + Data("\(FakeProviders.twilioSID):tw-secret".utf8).base64EncodedString()
            #expect(seen[2].headers["authorization"] == basic && seen[3].headers["authorization"] == basic)
            let sms = Dictionary(FormEncoding.decode(seen[2].body), uniquingKeysWith: { a, _ in a })
            #expect(sms["To"] == "+4915100000009" && sms["From"] == "+4930100200")
            #expect(sms["Body"]?.contains("Reply ACK to acknowledge or ESC to escalate.") == true)
            let call = Dictionary(FormEncoding.decode(seen[3].body), uniquingKeysWith: { a, _ in a })
            #expect(call["Twiml"]?.contains(#"<Gather numDigits="1""#) == true)
            #expect(call["Twiml"]?.contains("https://owl.example.com/api/v1/twilio/voice?tenant=\(f.tenant.slug.value)") == true)
            #expect(call["Twiml"]?.contains("Press 1 to acknowledge. Press 2 to escalate.") == true)
            #expect(call["Twiml"]?.range(of: #"Its code is ([0-9a-f] ){7}[0-9a-f]\."#, options: .regularExpression) != nil, "the short link's code is spoken")
            // Mattermost: a JSON text message.
            #expect(JSONValue.parse(seen[4].body)?.objectValue?["text"]?.stringValue?.contains("Pod CrashLoopBackOff") == true)
            // Webhook: signed over timestamp and body.
            let timestamp = try #require(seen[5].headers["x-owl-timestamp"])
            #expect(seen[5].headers["x-owl-signature"] == OwlSignature.sign(body: seen[5].body, timestamp: timestamp, secret: "wh-secret"))
        }
    }

    @Test func failuresAreClassifiedForRetry() async throws {
        let fake = FakeProviders()
        try await fake.application().test(.live) { server in
            let (f, sender) = try await Self.configured(port: try #require(server.port))
            let sms = Self.bundle(.sms, to: "+4915100000009")
            fake.script.withLockedValue { $0 = [.serverError, .rateLimited(7), .clientError, .slow] }
            guard case .retryable(_, nil) = await sender.send(sms, tenant: f.tenant) else { Issue.record("500 retries"); return }
            #expect(await sender.send(sms, tenant: f.tenant) == .retryable("HTTP 429: slow down", retryAfter: 7))
            guard case .permanent(let detail) = await sender.send(sms, tenant: f.tenant) else { Issue.record("400 is final"); return }
            #expect(detail.contains("HTTP 400"))
            guard case .retryable = await sender.send(sms, tenant: f.tenant) else { Issue.record("a timeout retries"); return }
            fake.script.withLockedValue { $0 = [.slackError("channel_not_found"), .slackError("ratelimited")] }
            guard case .permanent("slack: channel_not_found") = await sender.send(Self.bundle(.slackChannel, to: "ops"), tenant: f.tenant) else {
                Issue.record("slack refusals are final"); return
            }
            guard case .retryable = await sender.send(Self.bundle(.slackChannel, to: "ops"), tenant: f.tenant) else {
                Issue.record("slack rate limits retry"); return
            }
        }
    }

    /// A handoff notice that falls into one delivery with alerts for the same person goes out too, beside the alerts'
    /// summary (it used to be folded into the summary, which only lists alerts, and so was lost).
    @Test func otherMessagesAreNotFoldedIntoASummary() async throws {
        let fake = FakeProviders()
        try await fake.application().test(.live) { server in
            let (f, sender) = try await Self.configured(port: try #require(server.port))
            let handoff = JSONValue.object(["slack": .object(["text": "You are on call for Ops now."]), "sms": "You are on call for Ops now."])
            for method in [NotificationMethod.slackDM, .sms] {
                var bundle = Self.bundle(method, to: method == .sms ? "+4915100000009" : "U123456")
                var second = Self.notice
                second.alertID = UUID()
                second.title = "Disk full"
                bundle.payloads += [OutboundPayload.render(method, notice: second, recipient: bundle.recipient), handoff]
                guard case .delivered = await sender.send(bundle, tenant: f.tenant) else { Issue.record("\(method) failed"); return }
            }
            let seen = fake.seen.withLockedValue { $0 }
            let posts = seen.filter { $0.path.hasSuffix("/chat.postMessage") }.map(\.body)
            #expect(posts.count == 2)
            #expect(posts.first?.contains("2 alerts need attention") == true && posts.last?.contains("You are on call for Ops now.") == true)
            let sms = try #require(seen.last.map { Dictionary(FormEncoding.decode($0.body), uniquingKeysWith: { a, _ in a }) })
            #expect(sms["Body"]?.hasPrefix("[NightOwl] 2 alerts: ") == true && sms["Body"]?.hasSuffix("\n\nYou are on call for Ops now.") == true,
                    "\(sms["Body"] ?? "")")
        }
    }

    @Test(arguments: [(1, nil as Double?, 10.0), (2, nil, 20), (3, nil, 40), (9, nil, 600), (1, 7, 7), (4, 90_000, 3_600)])
    func backoff(attempt: Int, retryAfter: Double?, expected: Double) {
        #expect(NotificationDispatcher.backoff(afterAttempt: attempt, retryAfter: retryAfter) == expected)
    }

    @Test(arguments: [("ACK", SMSReply(action: .acknowledge, alertPrefix: nil) as SMSReply?), ("  ack ", SMSReply(action: .acknowledge, alertPrefix: nil)),
                      ("Esc 1a2b3c4d", SMSReply(action: .escalate, alertPrefix: "1a2b3c4d")), ("ACK 1A2B3C4D", SMSReply(action: .acknowledge, alertPrefix: "1a2b3c4d")),
                      ("hello", nil), ("ACK now please", nil), ("ESC zz", nil)])
    func smsReplies(body: String, expected: SMSReply?) { #expect(SMSReply.parse(body) == expected) }
}
