import Foundation
import OwlCore

/// Full-text search helpers: the query text as it goes to PostgreSQL, and highlights made safe for HTML.
enum IncidentSearch {
    /// Marks PostgreSQL's `ts_headline` puts around matches: control characters, which `Field` refuses in stored text,
    /// so a highlight can never be forged by the text itself.
    static let startMark = "\u{2}"
    static let stopMark = "\u{3}"
    static let headlineOptions = "StartSel=\u{2}, StopSel=\u{3}, MaxFragments=2, MaxWords=35, MinWords=12, FragmentDelimiter=\" … \""

    /// Cleans a query: bounded length, no quotes that would break the prefix rewrite, no control characters.
    static func sanitize(_ raw: String) throws -> String {
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw APIError.validation("q must not be empty", field: "q") }
        guard trimmed.count <= 200 else { throw APIError.validation("q must be at most 200 characters", field: "q") }
        let cleaned = String(trimmed.unicodeScalars.map { scalar -> Character in
            scalar.value < 0x20 || scalar == "'" || scalar == "\\" || scalar == ":" ? " " : Character(scalar)
        })
        return cleaned
    }

    /// HTML-escapes a headline and turns the match marks into `<mark>` elements.
    static func highlight(_ headline: String) -> String {
        var out = ""
        out.reserveCapacity(headline.utf8.count + 32)
        for scalar in headline.unicodeScalars {
            switch scalar {
            case "\u{2}": out += "<mark>"
            case "\u{3}": out += "</mark>"
            default: HTML.escape(scalar, into: &out)
            }
        }
        return out
    }
}

/// One search result: the entry, its rank and HTML-safe highlights of the fields that matched.
typealias IncidentSearchResult = Flattened<Incident, SearchMatch>

struct SearchMatch: Encodable, Sendable, JSONObjectWritable {
    var rank: Double
    var highlights: [String: String]

    func writeMembers(into object: inout JSONObjectWriter) {
        object.double("rank", rank)
        object.stringMap("highlights", highlights)
    }
}

extension IncidentSearchResult {
    init(incident: Incident, rank: Double, highlights: [String: String]) {
        self.init(incident, SearchMatch(rank: rank, highlights: highlights))
    }
}
