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
