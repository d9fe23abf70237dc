import Foundation
import OwlCore

/// The alerts list's filters as the page's form sends them. Unknown values fall back to the default and are named
/// above the list, never an error page: a link that has gone stale still shows alerts.
struct AlertListForm {
    static let statuses = [("open", "Open"), ("firing", "Firing"), ("acknowledged", "Acknowledged"), ("resolved", "Resolved"), ("all", "All")]
    static let severities = [("", "Any severity")] + Severity.allCases.map { ($0.rawValue, $0.rawValue.capitalized) }
    static let sources = [("", "Any source")] + AlertSource.allCases.map { ($0.rawValue, $0.rawValue == "pagerduty" ? "PagerDuty" : $0.rawValue.capitalized) }
    static let ranges: [(String, String, TimeInterval?)] = [("", "Any time", nil), ("1h", "Last hour", 3_600), ("24h", "Last 24 hours", 86_400),
                                                            ("7d", "Last 7 days", 604_800), ("30d", "Last 30 days", 2_592_000)]
    static let sorts = [("newest", "Newest first"), ("oldest", "Oldest first")]

    var status = "open"
    var severity = ""
    var source = ""
    var range = ""
    var sort = "newest"
    var service: String?
    var text: String?
    var problem: String?
    let now: Date

    init(query: Query, now: Date) {
        self.now = now
        var unknown: [String] = []
        func pick(_ key: String, _ options: [String], _ fallback: String) -> String {
            guard let value = query[key] else { return fallback }
            if options.contains(value) { return value }
            unknown.append(key)
            return fallback
        }
        status = pick("status", Self.statuses.map(\.0), "open")
        severity = pick("severity", Self.severities.map(\.0), "")
        source = pick("source", Self.sources.map(\.0), "")
        range = pick("range", Self.ranges.map(\.0), "")
        sort = pick("sort", Self.sorts.map(\.0), "newest")
        service = query["service"].map { String($0.prefix(200)) }
        text = query["q"].map { String($0.trimmingCharacters(in: .whitespaces).prefix(200)) }.flatMap { $0.isEmpty ? nil : $0 }
        if !unknown.isEmpty { problem = "Unknown \(unknown.joined(separator: ", ")) ignored; showing the default." }
    }

    var filter: AlertFilter {
        let statuses: [String] = switch status {
        case "open": ["firing", "acknowledged"]
        case "all": []
        default: [status]
        }
        let since = Self.ranges.first { $0.0 == range }?.2.map { now.addingTimeInterval(-$0) }
        return AlertFilter(statuses: statuses, severities: severity.isEmpty ? [] : [severity], service: service,
                           source: source.isEmpty ? nil : source, fingerprint: nil, since: since, until: nil, text: text, oldestFirst: sort == "oldest")
    }

    /// The list's address with these filters (defaults left out), on the page after `cursor`.
    func link(cursor: String?, status: String? = nil) -> String {
        var items: [(String, String)] = []
        let chosen = status ?? self.status
        if chosen != "open" { items.append(("status", chosen)) }
        if !severity.isEmpty { items.append(("severity", severity)) }
        if let service { items.append(("service", service)) }
        if !source.isEmpty { items.append(("source", source)) }
        if !range.isEmpty { items.append(("range", range)) }
        if let text { items.append(("q", text)) }
        if sort != "newest" { items.append(("sort", sort)) }
        if let cursor { items.append(("cursor", cursor)) }
        return Console.link("/alerts", items)
    }

    /// The counts above the list, each a link to that status with the other filters kept.
    func statusLinks(_ counts: [AlertStatus: Int]) -> [[String: Any]] {
        let firing = counts[.firing] ?? 0, acknowledged = counts[.acknowledged] ?? 0, resolved = counts[.resolved] ?? 0
        return [("open", "Open", firing + acknowledged), ("firing", "Firing", firing), ("acknowledged", "Acknowledged", acknowledged),
                ("resolved", "Resolved", resolved)].map { key, label, count in
            ["label": label, "count": count, "href": link(cursor: nil, status: key), "current": key == status]
        }
    }

    /// How many filters other than status are in use.
    var activeCount: Int { [!severity.isEmpty, service != nil, !source.isEmpty, !range.isEmpty, text != nil, sort != "newest"].filter { $0 }.count }

    /// The form's fields with the chosen option of each marked.
    var values: [String: Any] {
        func options(_ all: [(String, String)], _ chosen: String) -> [[String: Any]] {
            all.map { ["value": $0.0, "label": $0.1, "selected": $0.0 == chosen] }
        }
        return [
            "statuses": options(Self.statuses, status), "severities": options(Self.severities, severity), "sources": options(Self.sources, source),
            "ranges": options(Self.ranges.map { ($0.0, $0.1) }, range), "sorts": options(Self.sorts, sort),
            "service": service ?? "", "q": text ?? "", "returnTo": link(cursor: nil),
            "active": activeCount, "filtered": activeCount > 0,
        ]
    }
}
