import Foundation

/// The text of a `/nightowl` slash command, as Slack sends it (everything after the command's name).
enum SlackCommand: Equatable, Sendable {
    /// Knowledge-base search, the top 3 entries.
    case search(String)
    /// Who is on call now, for one roster (name or id) or every active one.
    case oncall(roster: String?)
    /// An alert by its id or the id's first 8 or more characters, as messages and SMS show it.
    case acknowledge(alert: String)
    case resolve(alert: String, notes: String?)
    /// The next 7 days of shifts, overrides included, for one roster or every active one.
    case roster(String?)
    /// Usage, after `problem` when the text could not be read.
    case help(problem: String?)

    static let maximumNotes = 10_000
    static let maximumQuery = 500

    static func parse(_ text: String) -> SlackCommand {
        let words = text.split(whereSeparator: \.isWhitespace)
        guard let verb = words.first?.lowercased() else { return .help(problem: nil) }
        let rest = words.dropFirst().joined(separator: " ")
        switch verb {
        case "help": return .help(problem: nil)
        case "search":
            guard !rest.isEmpty else { return .help(problem: "`search` needs words to look for.") }
            guard rest.count <= maximumQuery else { return .help(problem: "A search may be at most \(maximumQuery) characters.") }
            return .search(rest)
        case "oncall", "on-call", "who": return .oncall(roster: rest.isEmpty ? nil : rest)
        case "roster", "schedule": return .roster(rest.isEmpty ? nil : rest)
        case "ack", "acknowledge":
            guard words.count == 2, let id = alertReference(words[1]) else {
                return .help(problem: "`ack` needs one alert id (or its first 8 characters).")
            }
            return .acknowledge(alert: id)
        case "resolve":
            guard words.count >= 2, let id = alertReference(words[1]) else {
                return .help(problem: "`resolve` needs an alert id (or its first 8 characters), then notes if you like.")
            }
            let notes = words.dropFirst(2).joined(separator: " ")
            guard notes.count <= maximumNotes else { return .help(problem: "Notes may be at most \(maximumNotes) characters.") }
            return .resolve(alert: id, notes: notes.isEmpty ? nil : notes)
        default:
            return .help(problem: "There is no `\(verb.prefix(40))` command.")
        }
    }

    /// A whole id or at least its first 8 characters, lowercased; nil when it cannot be one.
    static func alertReference(_ raw: Substring) -> String? {
        let text = raw.lowercased()
        guard (8...36).contains(text.count), text.allSatisfy({ $0.isHexDigit || $0 == "-" }), !text.hasPrefix("-") else { return nil }
        return text
    }

    /// Whether the command changes an alert (and so needs the engineer role), rather than reading.
    var changesAlerts: Bool {
        switch self {
        case .acknowledge, .resolve: true
        default: false
        }
    }
}
