import Foundation
import OwlCore

/// The answers of `/nightowl`, in Slack's format: ephemeral (only the person who typed sees them), Block Kit with a
/// plain `text` for notifications. Pure functions over what the routes looked up.
enum SlackCommandReplies {
    struct Person: Equatable, Sendable {
        var name: String
        var slackID: String?
        var timezone: String
    }

    struct OnCall: Equatable, Sendable {
        var roster: String
        var subRoster: String?
        var primary: Person?
        var secondary: Person?
        var until: Date?
    }

    struct Shift: Equatable, Sendable {
        var start: Date
        var end: Date
        var primary: Person?
        var secondary: Person?
        var overrideReason: String?
        var subRoster: String?
    }

    struct Entry: Equatable, Sendable {
        var id: UUID
        var title: String
        var severity: Severity
        var solution: String
        var link: String?
    }

    static let usage = """
        *NightOwl commands*
        • `/nightowl oncall [roster]`: who is on call now
        • `/nightowl roster [roster]`: the next 7 days of shifts
        • `/nightowl search <words>`: the knowledge base, top 3
        • `/nightowl ack <alert id>`: acknowledge an alert (the first 8 characters of its id are enough)
        • `/nightowl resolve <alert id> [notes]`: resolve an alert
        """

    static func message(_ text: String, blocks: [JSONValue]? = nil) -> JSONValue {
        var reply: [String: JSONValue] = ["response_type": "ephemeral", "text": .string(text)]
        if let blocks { reply["blocks"] = .array(blocks) }
        return .object(reply)
    }

    static func section(_ markdown: String) -> JSONValue {
        .object(["type": "section", "text": .object(["type": "mrkdwn", "text": .string(markdown.truncated(2_900))])])
    }

    static func help(problem: String?) -> JSONValue {
        message((problem.map { "\($0)\n\n" } ?? "") + usage)
    }

    /// A person as Slack shows them: a mention when their Slack id is known, and their local time at `at`.
    static func person(_ p: Person?, at: Date) -> String {
        guard let p else { return "nobody" }
        let name = p.slackID.map { "<@\($0)>" } ?? "*\(AlertMessages.slackEscaped(p.name))*"
        let local = (Zone(identifier: p.timezone) ?? .utc).rfc3339(at)
        let clock = local.count >= 16 ? String(local.dropFirst(11).prefix(5)) : local
        return "\(name) (\(clock) in \(p.timezone))"
    }

    static func oncall(_ answers: [OnCall], at: Date) -> JSONValue {
        guard !answers.isEmpty else { return message("No active roster matches.") }
        let lines = answers.prefix(20).map { a in
            var line = "*\(AlertMessages.slackEscaped(a.roster))*" + (a.subRoster.map { " (\(AlertMessages.slackEscaped($0)))" } ?? "")
            line += ": \(person(a.primary, at: at))"
            if let secondary = a.secondary { line += ", secondary \(person(secondary, at: at))" }
            if let until = a.until { line += ", until \(AlertMessages.slackDate(until))" }
            return line
        }
        let text = "On call now:\n" + lines.joined(separator: "\n") + (answers.count > 20 ? "\n…and \(answers.count - 20) more rosters" : "")
        return message(text, blocks: [section(text)])
    }

    static func schedule(_ rosters: [(name: String, shifts: [Shift])], at: Date) -> JSONValue {
        guard !rosters.isEmpty else { return message("No active roster matches.") }
        var blocks: [JSONValue] = []
        for roster in rosters.prefix(5) {
            var lines = roster.shifts.prefix(15).map { s in
                var line = "• \(AlertMessages.slackDate(s.start)) – \(AlertMessages.slackDate(s.end)): \(person(s.primary, at: at))"
                if let sub = s.subRoster { line += " [\(AlertMessages.slackEscaped(sub))]" }
                if let secondary = s.secondary { line += ", secondary \(person(secondary, at: at))" }
                if let reason = s.overrideReason { line += " _(override\(reason.isEmpty ? "" : ": \(AlertMessages.slackEscaped(reason))"))_" }
                return line
            }
            if roster.shifts.count > 15 { lines.append("…and \(roster.shifts.count - 15) more") }
            if lines.isEmpty { lines = ["Nobody is scheduled."] }
            blocks.append(section("*\(AlertMessages.slackEscaped(roster.name))*, the next 7 days:\n" + lines.joined(separator: "\n")))
        }
        return message("The next 7 days of \(rosters.map(\.name).prefix(5).joined(separator: ", "))", blocks: blocks)
    }

    static func search(_ query: String, entries: [Entry], total: Int) -> JSONValue {
        guard !entries.isEmpty else { return message("Nothing in the knowledge base matches “\(query)”.") }
        var blocks: [JSONValue] = [section("*\(total)* knowledge-base entr\(total == 1 ? "y matches" : "ies match") “\(AlertMessages.slackEscaped(query))”"
                                           + (total > entries.count ? "; the best \(entries.count):" : ":"))]
        for entry in entries {
            let preview = entry.solution.isEmpty ? "_No solution recorded yet._" : "💡 " + AlertMessages.slackEscaped(entry.solution.truncated(300))
            var block: [String: JSONValue] = [
                "type": "section",
                "text": .object(["type": "mrkdwn", "text": .string(
                    "\(AlertMessages.emoji(entry.severity)) *\(AlertMessages.slackEscaped(entry.title.truncated(200)))* · \(entry.severity.rawValue)\n\(preview)")]),
            ]
            if let link = entry.link {
                block["accessory"] = .object(["type": "button", "text": .object(["type": "plain_text", "text": "View Full"]),
                                              "action_id": "view_incident", "url": .string(link)])
            }
            blocks.append(.object(block))
        }
        return message("\(total) knowledge-base entries match “\(query)”", blocks: blocks)
    }

    static func acknowledged(_ title: String, changed: Bool) -> JSONValue {
        message(changed ? "👀 Acknowledged: \(title). Its escalation has stopped." : "“\(title)” was already acknowledged or resolved; nothing changed.")
    }

    /// A resolution the knowledge base does not know ends with the spec's prompt: Add to Knowledge Base, or Skip.
    static func resolved(_ title: String, alertID: UUID, by slackUser: String, changed: Bool, known: Bool) -> JSONValue {
        guard changed else { return message("“\(title)” was already resolved; nothing changed.") }
        if known { return message("✅ Resolved: \(title).") }
        return message("✅ Resolved: \(title). This looks like a new issue, not in the knowledge base: record what fixed it, so that the "
                       + "next page for it comes with a known solution.",
                       blocks: SlackKnowledgeModal.prompt(title: title, alertID: alertID, resolvedBy: slackUser))
    }
}
