import Foundation

extension String {
    /// The string without leading and trailing white space and newlines. Most input has none, and then no copy is made;
    /// Foundation's `trimmingCharacters(in:)` bridges through NSString every time, which showed in ingestion profiles.
    public var trimmed: String {
        guard let first = unicodeScalars.first, let last = unicodeScalars.last else { return self }
        guard first.properties.isWhitespace || last.properties.isWhitespace else { return self }
        return trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

extension String {
    /// At most `limit` characters. A character is at least one UTF-8 byte, so a string whose byte length fits is
    /// returned as it is, without walking its grapheme clusters (`prefix(_:)` on every label value showed in the
    /// ingestion profile).
    public func limited(to limit: Int) -> String {
        utf8.count <= limit ? self : String(prefix(limit))
    }

    /// Whether the string has at most `limit` characters; counts characters only when the byte length does not settle it.
    public func hasAtMost(_ limit: Int) -> Bool {
        utf8.count <= limit || count <= limit
    }
}
