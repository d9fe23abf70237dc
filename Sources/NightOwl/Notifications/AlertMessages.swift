import Foundation
import OwlCore

/// What a notification says about an alert.
struct AlertNotice: Sendable, Equatable {
    var alertID: UUID
    var title: String
    var severity: Severity
    var service: String?
    var cluster: String?
    var namespace: String?
    var solution: String?
    var runbookURL: String?
    var onCallName: String?
    var onCallSlackID: String?
    var tier: Int
    var repetition: Int
    /// Where the alert can be opened (built from the public URL), if known.
    var link: String?
}

/// The messages of each method, in each provider's format. Pure functions, tested against the spec's formats.
enum AlertMessages {
    static func emoji(_ severity: Severity) -> String {
        switch severity {
        case .critical: "🔴"
        case .major: "🟠"
        case .warning: "🟡"
        case .info: "🔵"
        }
    }

    /// Slack Block Kit: header with severity, fields, known solution, and the Acknowledge / View Runbook / Escalate buttons.
    static func slack(_ n: AlertNotice, channel: String) -> JSONValue {
        let id = n.alertID.uuidString.lowercased()
        let onCall = n.onCallSlackID.map { "<@\($0)>" + (n.onCallName.map { " (\($0))" } ?? "") } ?? n.onCallName ?? "nobody"
        var blocks: [JSONValue] = [
            .object(["type": "header", "text": .object(["type": "plain_text", "text": .string("\(emoji(n.severity)) \(n.severity.rawValue.uppercased()): \(n.title)".truncated(150))])]),
            .object(["type": "section", "fields": .array([
                field("Cluster", n.cluster), field("Namespace", n.namespace), field("Service", n.service), field("On-Call", onCall),
            ])]),
        ]
        if let solution = n.solution, !solution.isEmpty {
            blocks.append(.object(["type": "section", "text": .object(["type": "mrkdwn", "text": .string("💡 *Known Solution:* \(slackEscaped(solution))".truncated(2_900))])]))
        }
        var buttons: [JSONValue] = [
            .object(["type": "button", "text": .object(["type": "plain_text", "text": "✅ Acknowledge"]), "action_id": "ack_alert", "value": .string(id)]),
        ]
        if let runbook = n.runbookURL {
            buttons.append(.object(["type": "button", "text": .object(["type": "plain_text", "text": "📋 View Runbook"]), "action_id": "view_runbook", "url": .string(runbook)]))
        }
        buttons.append(.object(["type": "button", "text": .object(["type": "plain_text", "text": "🔼 Escalate"]), "action_id": "escalate_alert",
                                "value": .string(id), "style": "danger"]))
        if let link = n.link {
            buttons.append(.object(["type": "button", "text": .object(["type": "plain_text", "text": "🔗 Open in NightOwl"]), "action_id": "open_alert",
                                    "url": .string(link)]))
        }
        blocks.append(.object(["type": "actions", "elements": .array(buttons)]))
        return .object(["channel": .string(channel), "text": .string(plain(n)), "blocks": .array(blocks)])
    }

    /// A message of `slack(_:channel:)` once the alert is acknowledged or resolved (or fires again after an acknowledgement was taken back), for `chat.update`: the same facts
    /// under a header that says so, a line with who and when (a Slack date token, so each reader sees their own time),
    /// and of the buttons only View Runbook.
    ///
    /// `known` says whether the knowledge base knows the alert; a resolved alert it does not know (`false`) offers
    /// "Add to Knowledge Base" (the spec's resolution prompt), so that whoever fixed it can record how.
    static func slackFollowUp(_ n: AlertNotice, status: AlertStatus, by actor: String?, at: Date?, channel: String, ts: String,
                              known: Bool? = nil) -> JSONValue {
        guard case .object(var message) = slack(n, channel: channel), case .array(let blocks)? = message["blocks"] else { return .null }
        if status == .firing {
            // An acknowledgement taken back: the firing message again, buttons and all, saying so.
            var line = "🔥 Firing again: the acknowledgement was taken back"
            if let actor, !actor.isEmpty { line += " by " + slackPerson(actor) }
            if let at { line += " " + slackDate(at) }
            message["ts"] = .string(ts)
            message["blocks"] = .array(blocks + [.object(["type": "context", "elements": .array([.object(["type": "mrkdwn", "text": .string(line)])])])])
            return .object(message)
        }
        let (mark, verb) = status == .resolved ? ("✅", "Resolved") : ("👀", "Acknowledged")
        let offersKnowledgeBase = status == .resolved && known == false
        var kept: [JSONValue] = []
        for block in blocks {
            guard var object = block.objectValue else { continue }
            switch object["type"]?.stringValue {
            case "header":
                let title = "\(mark) \(verb.uppercased()): \(n.title)".truncated(150)
                object["text"] = .object(["type": "plain_text", "text": .string(title)])
                kept.append(.object(object))
            case "actions":
                guard case .array(let elements)? = object["elements"] else { continue }
                let buttons = elements.filter { $0.objectValue?["url"] != nil } + (offersKnowledgeBase ? [knowledgeBaseButton(n.alertID)] : [])
                if !buttons.isEmpty { object["elements"] = .array(buttons); kept.append(.object(object)) }
            default:
                kept.append(block)
            }
        }
        var line = "\(mark) \(verb)"
        if let actor, !actor.isEmpty { line += " by " + slackPerson(actor) }
        if let at { line += " " + slackDate(at) }
        let severity = "\(emoji(n.severity)) \(n.severity.rawValue.uppercased())"
        var context = "\(line) · was \(severity)"
        if offersKnowledgeBase { context += "\n📚 A new issue: the knowledge base has no entry for it yet." }
        kept.append(.object(["type": "context", "elements": .array([.object(["type": "mrkdwn", "text": .string(context)])])]))
        message["ts"] = .string(ts)
        message["blocks"] = .array(kept)
        message["text"] = .string("\(mark) \(verb): \(n.title)" + (n.service.map { " (\($0))" } ?? ""))
        return .object(message)
    }

    /// Opens the "Add to Knowledge Base" modal for the alert (`SlackRoutes+Knowledge.swift`).
    static func knowledgeBaseButton(_ alertID: UUID) -> JSONValue {
        .object(["type": "button", "text": .object(["type": "plain_text", "text": "📝 Add to Knowledge Base"]),
                 "action_id": .string(SlackKnowledgeModal.openAction), "value": .string(alertID.uuidString.lowercased()), "style": "primary"])
    }

    /// Slack's date token: each reader sees the instant in their own zone; the fallback is UTC.
    static func slackDate(_ instant: Date) -> String {
        "<!date^\(Int(instant.timeIntervalSince1970.rounded(.down)))^{date_short_pretty} at {time}|\(ISO8601DateFormatter().string(from: instant))>"
    }

    /// Who acted, as Slack shows a person: a mention for someone who used Slack (`slack:<id>`), else their name.
    static func slackPerson(_ actor: String) -> String {
        if actor.hasPrefix("slack:"), actor.dropFirst(6).allSatisfy({ $0.isLetter || $0.isNumber }) { return "<@\(actor.dropFirst(6))>" }
        return "*\(slackEscaped(actor))*"
    }

    /// Slack's mrkdwn reads `&`, `<` and `>` as markup: text from people is escaped.
    static func slackEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// The notification text shown where blocks cannot be (push notifications, old clients).
    static func plain(_ n: AlertNotice) -> String {
        "\(emoji(n.severity)) \(n.severity.rawValue.uppercased()): \(n.title)" + (n.service.map { " (\($0))" } ?? "")
    }

    static func field(_ name: String, _ value: String?) -> JSONValue {
        .object(["type": "mrkdwn", "text": .string("*\(name):* \(value ?? "—")")])
    }

    /// Mattermost incoming webhook: Markdown text with the same facts and a colour bar.
    static func mattermost(_ n: AlertNotice) -> JSONValue {
        var lines = ["#### \(emoji(n.severity)) \(n.severity.rawValue.uppercased()): \(n.title)",
                     "**Cluster:** \(n.cluster ?? "—") · **Namespace:** \(n.namespace ?? "—") · **Service:** \(n.service ?? "—") · **On-call:** \(n.onCallName ?? "nobody")"]
        if let solution = n.solution, !solution.isEmpty { lines.append("💡 **Known solution:** \(solution)") }
        if let runbook = n.runbookURL { lines.append("[View runbook](\(runbook))") }
        if let link = n.link { lines.append("[Open alert](\(link))") }
        return .object(["text": .string(lines.joined(separator: "\n")), "username": "NightOwl"])
    }

    /// Several alerts at once for one Slack channel or person: one message that counts and lists them.
    static func slackSummary(_ notices: [AlertNotice], channel: String) -> JSONValue {
        let worst = notices.map(\.severity).max() ?? .warning
        let lines = notices.prefix(20).map { "• \(emoji($0.severity)) *\($0.severity.rawValue.uppercased())*: \($0.title)" + ($0.service.map { " (\($0))" } ?? "") }
        let more = notices.count > 20 ? "\n…and \(notices.count - 20) more" : ""
        return .object([
            "channel": .string(channel), "text": .string("\(emoji(worst)) \(notices.count) alerts"),
            "blocks": .array([
                .object(["type": "header", "text": .object(["type": "plain_text", "text": .string("\(emoji(worst)) \(notices.count) alerts need attention")])]),
                .object(["type": "section", "text": .object(["type": "mrkdwn", "text": .string((lines.joined(separator: "\n") + more).truncated(2_900))])]),
            ]),
        ])
    }

    static func mattermostSummary(_ notices: [AlertNotice]) -> JSONValue {
        let lines = notices.prefix(20).map { "- \(emoji($0.severity)) **\($0.severity.rawValue.uppercased())**: \($0.title)" }
        return .object(["text": .string("#### \(notices.count) alerts need attention\n" + lines.joined(separator: "\n")), "username": "NightOwl"])
    }

    /// SMS, as the spec words it.
    static func sms(_ n: AlertNotice) -> String {
        let place = [n.cluster, n.namespace].compactMap { $0 }.joined(separator: "/")
        return "[NightOwl] \(n.severity.rawValue.uppercased()): \(n.title)\(place.isEmpty ? "" : " in \(place)"). "
            + "Reply ACK to acknowledge or ESC to escalate. Alert ID: \(shortID(n.alertID))" + (n.link.map { " \($0)" } ?? "")
    }

    /// Several alerts for one person within the rate limit, in one SMS.
    static func smsBundle(_ notices: [AlertNotice]) -> String {
        guard notices.count > 1 else { return notices.first.map(sms) ?? "" }
        let list = notices.prefix(5).map { "\($0.severity.rawValue.uppercased()) \($0.title.truncated(40)) (\(shortID($0.alertID)))" }
        return "[NightOwl] \(notices.count) alerts: " + list.joined(separator: "; ") + (notices.count > 5 ? "; …" : "")
            + ". Reply ACK <id> or ESC <id>; ACK alone acknowledges all of them."
    }

    /// What the voice call says before gathering a digit.
    static func speech(_ notices: [AlertNotice]) -> String {
        guard let first = notices.first else { return "" }
        let head = notices.count > 1 ? "\(notices.count) alerts, the first: " : ""
        let service = first.service.map { " for \($0)" } ?? ""
        // The short link's code, character by character, so the alert can be opened at /a/<code> after the call.
        let code = shortID(first.alertID).map(String.init).joined(separator: " ")
        return "\(head)\(first.severity.rawValue.capitalized) alert\(service). \(first.title). Its code is \(code). "
            + "Press 1 to acknowledge. Press 2 to escalate."
    }

    /// The JSON event of an outbound webhook.
    static func webhookEvent(_ n: AlertNotice, event: String = "alert.escalated") -> JSONValue {
        .object([
            "event": .string(event), "alert_id": .string(n.alertID.uuidString.lowercased()), "title": .string(n.title),
            "severity": .string(n.severity.rawValue), "service": n.service.map(JSONValue.string) ?? .null,
            "cluster": n.cluster.map(JSONValue.string) ?? .null, "namespace": n.namespace.map(JSONValue.string) ?? .null,
            "tier": .number(Double(n.tier + 1)), "repeat": .number(Double(n.repetition)),
            "known_solution": n.solution.map(JSONValue.string) ?? .null, "link": n.link.map(JSONValue.string) ?? .null,
        ])
    }

    /// The alert's short link in the console (`/a/` and the first 8 characters of its id), for messages.
    static func consoleLink(base: String, alertID: UUID) -> String { "\(base)/a/\(shortID(alertID))" }

    /// The first 8 characters of the id: what people type in an SMS reply.
    static func shortID(_ id: UUID) -> String { String(id.uuidString.lowercased().prefix(8)) }
}

extension String {
    func truncated(_ limit: Int) -> String { count <= limit ? self : String(prefix(limit - 1)) + "…" }
}
