import Foundation
import OwlCore

/// What happened to an alert, told in the thread of its channel message (migration 0017 queues them; escalations and
/// the knowledge-base modal queue theirs through `slack_thread_note`). Parsed from the outbox row's `slack_thread`.
struct SlackThreadNote: Sendable, Equatable {
    enum Event: String, Sendable { case acknowledged, resolved, escalated, exhausted, known, firing }

    var event: Event
    /// The channel message's channel id and ts: the thread.
    var channel: String
    var threadTS: String
    /// Who acted: `slack:<member id>` for a mention, else as recorded (an email, `alertmanager`, ...).
    var by: String?
    var at: Date?
    var firedAt: Date?
    var count: Int?
    var acknowledgedBy: String?
    var acknowledgedAt: Date?
    var notes: String?
    /// Whether the knowledge base knows the alert, and the title of the entry that does.
    var known: Bool?
    var entry: String?
    /// An escalation: the tier (1-based), the round (0 for the first), who was paged how, and who could not be.
    var tier: Int?
    var round: Int?
    var paged: [String]
    var unreachable: [String]

    init(event: Event, channel: String = "", threadTS: String = "", by: String? = nil, at: Date? = nil, firedAt: Date? = nil,
         count: Int? = nil, acknowledgedBy: String? = nil, acknowledgedAt: Date? = nil, notes: String? = nil, known: Bool? = nil,
         entry: String? = nil, tier: Int? = nil, round: Int? = nil, paged: [String] = [], unreachable: [String] = []) {
        self.event = event
        self.channel = channel
        self.threadTS = threadTS
        self.by = by
        self.at = at
        self.firedAt = firedAt
        self.count = count
        self.acknowledgedBy = acknowledgedBy
        self.acknowledgedAt = acknowledgedAt
        self.notes = notes
        self.known = known
        self.entry = entry
        self.tier = tier
        self.round = round
        self.paged = paged
        self.unreachable = unreachable
    }

    init?(_ payload: JSONValue) {
        guard let note = payload.objectValue?["slack_thread"]?.objectValue,
              let event = note["event"]?.stringValue.flatMap(Event.init(rawValue:)) else { return nil }
        func number(_ key: String) -> Double? { if case .number(let n)? = note[key] { n } else { nil } }
        func date(_ key: String) -> Date? { number(key).map(Date.init(timeIntervalSince1970:)) }
        func texts(_ key: String) -> [String] { if case .array(let items)? = note[key] { items.compactMap(\.stringValue) } else { [] } }
        var known: Bool?
        if case .bool(let value)? = note["known"] { known = value }
        self.init(event: event, channel: note["channel"]?.stringValue ?? "", threadTS: note["thread_ts"]?.stringValue ?? "",
                  by: note["by"]?.stringValue, at: date("at"), firedAt: date("fired_at"), count: number("count").map { Int($0) },
                  acknowledgedBy: note["acknowledged_by"]?.stringValue, acknowledgedAt: date("acknowledged_at"),
                  notes: note["notes"]?.stringValue, known: known, entry: note["entry"]?.stringValue,
                  tier: number("tier").map { Int($0) }, round: number("round").map { Int($0) }, paged: texts("paged"),
                  unreachable: texts("unreachable"))
    }

    /// The note as the `slack_thread` object of an outbox row (what `init?(_:)` reads), without the thread, which
    /// `slack_thread_note` adds per message.
    var json: JSONValue {
        var object: [String: JSONValue] = ["event": .string(event.rawValue)]
        func put(_ key: String, _ value: JSONValue?) { if let value { object[key] = value } }
        func epoch(_ date: Date?) -> JSONValue? { date.map { .number($0.timeIntervalSince1970.rounded(.down)) } }
        put("by", by.map(JSONValue.string))
        put("at", epoch(at))
        put("fired_at", epoch(firedAt))
        put("count", count.map { .number(Double($0)) })
        put("acknowledged_by", acknowledgedBy.map(JSONValue.string))
        put("acknowledged_at", epoch(acknowledgedAt))
        put("notes", notes.map(JSONValue.string))
        put("known", known.map(JSONValue.bool))
        put("entry", entry.map(JSONValue.string))
        put("tier", tier.map { .number(Double($0)) })
        put("round", round.map { .number(Double($0)) })
        if !paged.isEmpty { object["paged"] = .array(paged.map(JSONValue.string)) }
        if !unreachable.isEmpty { object["unreachable"] = .array(unreachable.map(JSONValue.string)) }
        return .object(object)
    }

    /// The note's text, in Slack's mrkdwn.
    var text: String {
        switch event {
        case .acknowledged:
            return "👀 Acknowledged" + actor + since(firedAt, "after it fired") + "."
        case .resolved:
            var line = "✅ Resolved" + actor + since(firedAt, "after it fired")
            if let acknowledgedAt, let firedAt {
                let who = acknowledgedBy.map { " by " + AlertMessages.slackPerson($0) } ?? ""
                line += " (acknowledged\(who) after \(Self.duration(acknowledgedAt.timeIntervalSince(firedAt))))"
            }
            line += "."
            if let count, count > 1 { line += " It fired \(count) times." }
            var lines = [line]
            if let notes, !notes.isEmpty {
                lines.append(notes.truncated(1_500).split(separator: "\n", omittingEmptySubsequences: false)
                    .map { ">" + AlertMessages.slackEscaped(String($0)) }.joined(separator: "\n"))
            }
            if let entry { lines.append("📚 Known issue: *\(AlertMessages.slackEscaped(entry))*") }
            else if known == false { lines.append("📚 The knowledge base has no entry for it yet: *📝 Add to Knowledge Base* above records how it was fixed.") }
            return lines.joined(separator: "\n")
        case .escalated:
            let tier = tier.map { "tier \($0)" } ?? "the next tier"
            let again = "paging \(tier) again (round \((round ?? 0) + 1))"
            var line: String
            if (round ?? 0) == 0 { line = "🔼 Escalated to \(tier)" + actor }
            else if actor.isEmpty { line = "🔁 Nobody acknowledged: " + again }
            else { line = "🔁 Asked" + actor + ": " + again }
            line += paged.isEmpty ? ", but nobody could be paged." : ": " + paged.joined(separator: ", ") + "."
            if !unreachable.isEmpty { line += "\n⚠️ Not reached: " + unreachable.map(AlertMessages.slackEscaped).joined(separator: "; ") + "." }
            return line
        case .exhausted:
            return "⚠️ Every tier of the escalation policy was paged and nobody acknowledged" + since(firedAt, "since it fired")
                + ". The alert is still open."
        case .firing:
            return "🔥 Firing again: the acknowledgement was taken back" + actor + ". The escalation goes on."
        case .known:
            let title = entry.map { ": *\(AlertMessages.slackEscaped($0))*" } ?? ""
            return "📚 Added to the knowledge base\(actor)\(title). The next time this alert fires, its message brings the solution."
        }
    }

    private var actor: String { by.flatMap { $0.isEmpty ? nil : " by " + AlertMessages.slackPerson($0) } ?? "" }

    private func since(_ start: Date?, _ words: String) -> String {
        guard let start, let at, at >= start else { return "" }
        return " \(Self.duration(at.timeIntervalSince(start))) \(words)"
    }

    /// A span as people say it at a glance: `40 s`, `3 min`, `1 h 5 min`, `2 d 3 h`.
    static func duration(_ seconds: TimeInterval) -> String {
        let s = max(0, Int(seconds.rounded(.down)))
        if s < 60 { return "\(s) s" }
        let minutes = s / 60
        if minutes < 60 { return "\(minutes) min" }
        let hours = minutes / 60
        if hours < 24 { return minutes % 60 == 0 ? "\(hours) h" : "\(hours) h \(minutes % 60) min" }
        return hours % 24 == 0 ? "\(hours / 24) d" : "\(hours / 24) d \(hours % 24) h"
    }

    /// `chat.postMessage` in the thread (the thread's channel and ts; `text` is also what notifications show).
    func message(_ notice: AlertNotice?) -> JSONValue {
        let about = notice.map { "\(AlertMessages.emoji($0.severity)) \($0.title)" }
        let body = text
        var blocks: [JSONValue] = [.object(["type": "section", "text": .object(["type": "mrkdwn", "text": .string(body.truncated(2_900))])])]
        if let about { blocks.append(.object(["type": "context", "elements": .array([.object(["type": "mrkdwn", "text": .string(AlertMessages.slackEscaped(about))])])])) }
        return .object(["channel": .string(channel), "thread_ts": .string(threadTS), "text": .string(body.truncated(3_000)),
                        "blocks": .array(blocks), "unfurl_links": false])
    }
}

extension SlackThreadNote {
    /// The note of an escalation step: who was paged how (a person once, with every way they were reached), and who
    /// could not be. Webhooks are named without their address, which may carry a token.
    static func escalation(tier: Int, round: Int, planned: [PlannedNotification], slackIDs: [UUID: String], at: Date) -> SlackThreadNote {
        var order: [String] = []
        var ways: [String: [String]] = [:]
        var unreachable: [String] = []
        for n in planned {
            guard n.recipient != nil else {
                if let problem = n.problem, !unreachable.contains(problem) { unreachable.append(problem) }
                continue
            }
            let who: String
            switch n.method {
            case .slackDM, .sms, .phone:
                if let id = n.userID, let slack = slackIDs[id] { who = "<@\(slack)>" }
                else { who = "*\(AlertMessages.slackEscaped(n.userName ?? n.recipient ?? "someone"))*" }
            case .slackChannel: who = AlertMessages.slackEscaped(n.recipient ?? "the channel")
            case .mattermost: who = "Mattermost"
            case .webhook: who = "a webhook"
            }
            if ways[who] == nil { order.append(who); ways[who] = [] }
            let way = switch n.method {
            case .slackDM: "Slack DM"
            case .slackChannel: "channel post"
            case .sms: "SMS"
            case .phone: "phone call"
            case .mattermost, .webhook: ""
            }
            if !way.isEmpty, !ways[who, default: []].contains(way) { ways[who, default: []].append(way) }
        }
        let paged = order.map { who in ways[who, default: []].isEmpty ? who : "\(who) (\(ways[who, default: []].joined(separator: ", ")))" }
        return SlackThreadNote(event: .escalated, at: at, tier: tier, round: round, paged: paged, unreachable: unreachable)
    }
}
