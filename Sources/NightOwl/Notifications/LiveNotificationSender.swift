import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OwlCore

/// Sends through the real providers: Slack Web API, Mattermost incoming webhooks, Twilio's REST API and signed
/// outbound webhooks. Credentials come from the tenant's configuration (secrets decrypted on use); base URLs can be
/// pointed elsewhere (`slack_api_url`, `twilio_api_url`), which is how tests talk to local servers.
struct LiveNotificationSender: NotificationSender {
    let http: HTTPClient
    let config: TenantConfigService
    /// Public base URL for Twilio's callbacks when the tenant sets none.
    let publicURL: String?
    let clock: WallClock
    var timeout: TimeAmount = .seconds(10)

    func send(_ bundle: OutboundBundle, tenant: Tenant) async -> DeliveryOutcome {
        do {
            switch bundle.method {
            case .slackDM, .slackChannel: return try await slack(bundle, tenant)
            case .mattermost: return try await mattermost(bundle, tenant)
            case .sms, .phone: return try await twilio(bundle, tenant)
            case .webhook: return try await webhook(bundle, tenant)
            }
        } catch {
            return HTTPDelivery.outcome(of: error)
        }
    }

    var notices: (OutboundBundle) -> [AlertNotice] { { $0.payloads.compactMap(OutboundPayload.notice(from:)) } }

    /// The messages of a bundle: several alerts as one summary, and every other message (a handoff notice, a reply to
    /// a person) on its own, never folded into the summary.
    static func bundled(_ payloads: [JSONValue], summary: ([AlertNotice]) -> JSONValue) -> [JSONValue] {
        let alerts = payloads.filter { OutboundPayload.notice(from: $0) != nil }
        let others = payloads.filter { OutboundPayload.notice(from: $0) == nil }
        return (alerts.count > 1 ? [summary(alerts.compactMap(OutboundPayload.notice(from:)))] : alerts) + others
    }

    // MARK: Slack

    func slack(_ bundle: OutboundBundle, _ tenant: Tenant) async throws -> DeliveryOutcome {
        guard let token = try await config.secret("slack_bot_token", tenantID: tenant.id) else { return .permanent("slack_bot_token is not configured") }
        let base = try await setting("slack_api_url", tenant) ?? "https://slack.com/api"
        // Updates of one message: the latest state is all that needs showing.
        if let followUp = bundle.payloads.last(where: OutboundPayload.isSlackFollowUp) {
            return try await slackFollowUp(followUp, base: base, token: token)
        }
        if let payload = bundle.payloads.first(where: OutboundPayload.isSlackThreadNote) {
            return try await slackThreadNote(payload, base: base, token: token)
        }
        var channel = bundle.recipient
        if bundle.method == .slackDM {
            let opened = try await slackCall(base + "/conversations.open", token: token, body: .object(["users": .string(bundle.recipient)]))
            guard case .success(let json) = opened else { return opened.outcome }
            guard let id = json.objectValue?["channel"]?.objectValue?["id"]?.stringValue else { return .permanent("conversations.open returned no channel") }
            channel = id
        }
        var references: [String] = []
        // Several alerts for one channel within the limit: one summary message instead of a burst.
        let messages = Self.bundled(bundle.payloads) { .object(["slack": AlertMessages.slackSummary($0, channel: channel)]) }
        for payload in messages {
            guard var message = payload.objectValue?["slack"]?.objectValue else { continue }
            message["channel"] = .string(channel)
            let posted = try await slackCall(base + "/chat.postMessage", token: token, body: .object(message))
            guard case .success(let json) = posted else { return posted.outcome }
            references.append("\(json.objectValue?["channel"]?.stringValue ?? channel):\(json.objectValue?["ts"]?.stringValue ?? "")")
        }
        return .delivered(reference: references.joined(separator: ","))
    }

    /// `chat.update` of a message sent earlier (its channel id and ts as `chat.postMessage` answered them).
    func slackFollowUp(_ payload: JSONValue, base: String, token: String) async throws -> DeliveryOutcome {
        let update = payload.objectValue?["slack_update"]?.objectValue
        guard let notice = OutboundPayload.notice(from: payload), let channel = update?["channel"]?.stringValue, !channel.isEmpty,
              let ts = update?["ts"]?.stringValue, !ts.isEmpty,
              let status = update?["status"]?.stringValue.flatMap(AlertStatus.init(rawValue:)) else {
            return .permanent("the message to update is not known (channel, ts or alert missing)")
        }
        var at: Date?
        if case .number(let seconds)? = update?["at"] { at = Date(timeIntervalSince1970: seconds) }
        var known: Bool?
        if case .bool(let value)? = update?["known"] { known = value }
        let message = AlertMessages.slackFollowUp(notice, status: status, by: update?["by"]?.stringValue, at: at, channel: channel, ts: ts,
                                                  known: known)
        let updated = try await slackCall(base + "/chat.update", token: token, body: message)
        guard case .success = updated else { return updated.outcome }
        return .delivered(reference: "\(channel):\(ts)")
    }

    /// `chat.postMessage` in the thread of a channel message sent earlier.
    func slackThreadNote(_ payload: JSONValue, base: String, token: String) async throws -> DeliveryOutcome {
        guard let note = SlackThreadNote(payload), !note.channel.isEmpty, !note.threadTS.isEmpty else {
            return .permanent("the thread is not known (channel or ts missing)")
        }
        let posted = try await slackCall(base + "/chat.postMessage", token: token, body: note.message(OutboundPayload.notice(from: payload)))
        guard case .success(let json) = posted else { return posted.outcome }
        return .delivered(reference: "\(json.objectValue?["channel"]?.stringValue ?? note.channel):\(json.objectValue?["ts"]?.stringValue ?? "")")
    }

    enum SlackResult { case success(JSONValue), failure(DeliveryOutcome)
        var outcome: DeliveryOutcome { if case .failure(let o) = self { o } else { .delivered(reference: nil) } }
    }

    /// Slack answers 200 with `ok: false` for most errors; `ratelimited` and server errors are worth retrying.
    func slackCall(_ url: String, token: String, body: JSONValue) async throws -> SlackResult {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.body = .bytes(ByteBuffer(string: body.jsonText()))
        let response = try await http.execute(request, timeout: timeout)
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        if let failed = HTTPDelivery.classify(response.status, retryAfter: response.headers.first(name: "Retry-After"), body: text, now: clock.now) { return .failure(failed) }
        let json = JSONValue.parse(text) ?? .null
        guard case .bool(true)? = json.objectValue?["ok"] else {
            let error = json.objectValue?["error"]?.stringValue ?? "unknown_error"
            return .failure(["ratelimited", "internal_error", "service_unavailable", "fatal_error", "request_timeout"].contains(error)
                            ? .retryable("slack: \(error)", retryAfter: nil) : .permanent("slack: \(error)"))
        }
        return .success(json)
    }

    // MARK: Mattermost

    func mattermost(_ bundle: OutboundBundle, _ tenant: Tenant) async throws -> DeliveryOutcome {
        guard let url = try await config.secret("mattermost_webhook_url", tenantID: tenant.id) else {
            return .permanent("mattermost_webhook_url is not configured")
        }
        let messages = Self.bundled(bundle.payloads) { .object(["mattermost": AlertMessages.mattermostSummary($0)]) }
        for payload in messages {
            guard let message = payload.objectValue?["mattermost"] else { continue }
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: message.jsonText()))
            let response = try await http.execute(request, timeout: timeout)
            let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
            if let failed = HTTPDelivery.classify(response.status, retryAfter: response.headers.first(name: "Retry-After"), body: text, now: clock.now) { return failed }
        }
        return .delivered(reference: nil)
    }

    // MARK: Twilio

    func twilio(_ bundle: OutboundBundle, _ tenant: Tenant) async throws -> DeliveryOutcome {
        guard let sid = try await setting("twilio_account_sid", tenant), let from = try await setting("twilio_from_number", tenant),
              let token = try await config.secret("twilio_auth_token", tenantID: tenant.id) else {
            return .permanent("twilio_account_sid, twilio_from_number and twilio_auth_token must be configured")
        }
        let base = try await setting("twilio_api_url", tenant) ?? "https://api.twilio.com"
        let notices = notices(bundle)
        var form: [(String, String)] = [("To", bundle.recipient), ("From", from)]
        let resource: String
        if bundle.method == .sms {
            resource = "Messages.json"
            // Alert messages are rendered from their notices (bundled when several); others carry their text.
            let texts = bundle.payloads.compactMap { $0.objectValue?["alert"] == nil ? $0.objectValue?["sms"]?.stringValue : nil }
            form.append(("Body", ((notices.isEmpty ? [] : [AlertMessages.smsBundle(notices)]) + texts).joined(separator: "\n\n")))
        } else {
            resource = "Calls.json"
            guard let callbackBase = try await setting("public_base_url", tenant) ?? publicURL else {
                return .permanent("a public URL (public_base_url or NIGHTOWL_PUBLIC_URL) is needed for Twilio's callbacks")
            }
            let ids = notices.map { $0.alertID.uuidString.lowercased() }.joined(separator: ",")
            form.append(("Twiml", TwiML.call(speech: AlertMessages.speech(notices),
                                             gatherURL: "\(callbackBase)/api/v1/twilio/voice?tenant=\(tenant.slug.value)&alert_ids=\(ids)")))
        }
        var request = HTTPClientRequest(url: "\(base)/2010-04-01/Accounts/\(sid)/\(resource)")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Basic " + Data("\(sid):\(token)".utf8).base64EncodedString())
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: FormEncoding.encode(form)))
        let response = try await http.execute(request, timeout: timeout)
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        if let failed = HTTPDelivery.classify(response.status, retryAfter: response.headers.first(name: "Retry-After"), body: text, now: clock.now) { return failed }
        return .delivered(reference: JSONValue.parse(text)?.objectValue?["sid"]?.stringValue)
    }

    // MARK: Webhook

    func webhook(_ bundle: OutboundBundle, _ tenant: Tenant) async throws -> DeliveryOutcome {
        let secret = try await config.secret("webhook_signing_secret", tenantID: tenant.id)
        let events = bundle.payloads.compactMap { $0.objectValue?["webhook"] }
        let body = (events.count == 1 ? events[0] : .object(["event": "alert.escalated.batch", "events": .array(events)])).jsonText()
        var request = HTTPClientRequest(url: bundle.recipient)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let secret {
            request.headers.add(contentsOf: OwlSignature.headers(body: body, secret: secret, now: clock.now))
        } else {
            request.headers.add(name: OwlSignature.timestampHeader, value: String(Int(clock.now.timeIntervalSince1970)))
        }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await http.execute(request, timeout: timeout)
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        if let failed = HTTPDelivery.classify(response.status, retryAfter: response.headers.first(name: "Retry-After"), body: text, now: clock.now) { return failed }
        return .delivered(reference: nil)
    }

    // MARK: Shared

    func setting(_ name: String, _ tenant: Tenant) async throws -> String? {
        try await config.setting(name, tenantID: tenant.id)?.stringValue
    }
}

/// TwiML documents for calls.
enum TwiML {
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Says the alert and gathers one digit, posted to `gatherURL`.
    static func call(speech: String, gatherURL: String) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?><Response><Gather numDigits="1" timeout="10" action="\(escape(gatherURL))" method="POST">\
        <Say>\(escape(speech))</Say></Gather><Say>No key was pressed. The alert stays open. Goodbye.</Say></Response>
        """
    }

    static func say(_ text: String) -> String {
        #"<?xml version="1.0" encoding="UTF-8"?><Response><Say>\#(escape(text))</Say></Response>"#
    }

    static func message(_ text: String) -> String {
        #"<?xml version="1.0" encoding="UTF-8"?><Response><Message>\#(escape(text))</Message></Response>"#
    }
}

