import Foundation
import Hummingbird

/// `?limit=&offset=`: for lists that are browsed by page (knowledge base, users).
public struct OffsetPage: Sendable, Equatable {
    public var limit: Int
    public var offset: Int
    public static let defaultLimit = 50
    public static let maximumLimit = 200

    public init(limit: Int = OffsetPage.defaultLimit, offset: Int = 0) {
        self.limit = limit
        self.offset = offset
    }

    public init(query: Query) throws {
        limit = try query.int("limit", default: Self.defaultLimit, range: 1...Self.maximumLimit)
        offset = try query.int("offset", default: 0, range: 0...10_000_000)
    }
}

/// A page of an offset list.
public struct OffsetList<Item: Encodable & Sendable>: Encodable, Sendable {
    public var items: [Item]
    public var total: Int
    public var limit: Int
    public var offset: Int
    public init(items: [Item], total: Int, page: OffsetPage) {
        self.items = items
        self.total = total
        limit = page.limit
        offset = page.offset
    }
}

/// An opaque position in a list ordered newest first by `(time, id)`. Stable while rows are inserted:
/// the next page starts strictly after the last row seen, whatever arrived in between.
public struct Cursor: Sendable, Equatable {
    public var time: Date
    public var id: UUID

    public init(time: Date, id: UUID) {
        self.time = time
        self.id = id
    }

    /// Microseconds since 1970, exactly as PostgreSQL stores the time.
    public var micros: Int64 { Int64((time.timeIntervalSince1970 * 1_000_000).rounded()) }

    /// base64url of `<microseconds since 1970>:<uuid>`.
    public var encoded: String {
        return Data("\(micros):\(id.uuidString.lowercased())".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public init?(encoded: String) {
        var text = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        guard encoded.count <= 128, let data = Data(base64Encoded: text), let plain = String(data: data, encoding: .utf8) else { return nil }
        let parts = plain.split(separator: ":")
        guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else { return nil }
        time = Date(timeIntervalSince1970: Double(micros) / 1_000_000)
        self.id = id
    }
}

/// `?limit=&cursor=`: for lists that grow while being read (alerts, audit log).
///
/// A store never sees the page's size: it fetches `rowsToFetch` rows, one more than the page shows, and `CursorList`
/// reads the extra row as "another page exists". (`LIMIT limit` here answered every first page with a null cursor.)
public struct CursorPage: Sendable, Equatable {
    fileprivate var limit: Int
    public var after: Cursor?

    /// The `LIMIT` of a page query: the page's size plus the one row that tells whether another page follows.
    public var rowsToFetch: Int { limit + 1 }

    public init(limit: Int = OffsetPage.defaultLimit, after: Cursor? = nil) {
        self.limit = limit
        self.after = after
    }

    public init(query: Query) throws {
        limit = try query.int("limit", default: OffsetPage.defaultLimit, range: 1...OffsetPage.maximumLimit)
        if let raw = try query.typed("cursor", "is not valid") {
            guard let cursor = Cursor(encoded: raw) else { throw APIError.validation("cursor is not valid", field: "cursor") }
            after = cursor
        }
    }
}

/// A page of a cursor list; `next_cursor` is null on the last page.
public struct CursorList<Item: Encodable & Sendable>: Encodable, Sendable {
    public var items: [Item]
    public var nextCursor: String?

    /// `rows` holds up to `page.rowsToFetch` rows: the extra one only says whether another page exists.
    public init(rows: [Item], page: CursorPage, position: (Item) -> Cursor) {
        items = Array(rows.prefix(page.limit))
        nextCursor = rows.count > page.limit ? items.last.map { position($0).encoded } : nil
    }

    enum CodingKeys: String, CodingKey { case items, nextCursor = "next_cursor" }

    /// `next_cursor` is always present, null on the last page, as documented.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(items, forKey: .items)
        try c.encode(nextCursor, forKey: .nextCursor)
    }
}

/// Query-string access that validates as it reads.
public struct Query: Sendable {
    /// A filter's text: trimmed, at most `max` characters, nil when empty or absent.
    public func text(_ name: String, max: Int = 200) -> String? {
        self[name].map { String($0.trimmingCharacters(in: .whitespaces).prefix(max)) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    let values: [String: [String]]

    public init(_ request: Request) { self.init(rawQuery: request.uri.query ?? "") }

    /// Decoded as browsers' forms, `URLSearchParams`, Python's and Go's clients encode it: `+` is a space (`%2B` a
    /// plus), then percent escapes; a malformed escape is kept as written.
    public init(rawQuery: String) {
        var values: [String: [String]] = [:]
        for pair in rawQuery.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            values[Self.decode(parts[0]), default: []].append(parts.count > 1 ? Self.decode(parts[1]) : "")
        }
        self.values = values
    }

    static func decode(_ raw: Substring) -> String {
        let spaced = raw.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    public subscript(_ key: String) -> String? { values[key]?.last.flatMap { $0.isEmpty ? nil : $0 } }

    /// The value of a parameter that must be well-formed when it is given: `?until=` is not the same as no `until`.
    func typed(_ key: String, _ problem: String) throws -> String? {
        guard let raw = values[key]?.last else { return nil }
        guard !raw.isEmpty else { throw APIError.validation("\(key) \(problem)", field: key) }
        return raw
    }

    /// Every value of a repeated or comma-separated parameter (`?severity=critical,major` or `?severity=a&severity=b`).
    public func list(_ key: String) -> [String] {
        (values[key] ?? []).flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
            .filter { !$0.isEmpty }
    }

    public func int(_ key: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        let problem = "must be an integer in \(range.lowerBound)...\(range.upperBound)"
        guard let raw = try typed(key, problem) else { return value }
        guard let parsed = Int(raw), range.contains(parsed) else { throw APIError.validation("\(key) \(problem)", field: key) }
        return parsed
    }

    public func time(_ key: String) throws -> Date? {
        let problem = "must be an RFC 3339 time such as 2026-01-31T08:00:00Z"
        guard let raw = try typed(key, problem) else { return nil }
        // An offset typed unencoded (`+01:00`) arrives as a space; a time has no other place for one.
        guard let date = Timestamp.parse(raw) ?? Timestamp.parse(raw.replacingOccurrences(of: " ", with: "+")) else {
            throw APIError.validation("\(key) \(problem)", field: key)
        }
        return date
    }

    public func uuid(_ key: String) throws -> UUID? {
        let problem = "must be a UUID"
        guard let raw = try typed(key, problem) else { return nil }
        guard let id = UUID(uuidString: raw) else { throw APIError.validation("\(key) \(problem)", field: key) }
        return id
    }
}

extension OwlRequestContext {
    /// A UUID path parameter, or a 400 naming it.
    public func uuid(_ name: String) throws -> UUID {
        guard let raw = parameters.get(name), let id = UUID(uuidString: raw) else {
            throw APIError.badRequest("\(name) must be a UUID", code: "invalid_id", details: .object(["field": .string(name)]))
        }
        return id
    }
}
