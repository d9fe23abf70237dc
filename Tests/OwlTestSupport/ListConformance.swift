import Foundation
import HummingbirdTesting
import OwlCore

/// How a list route's rows are made for the paging check: the route's own create calls, or the pipeline that fills it.
public struct ListFixture: Sendable {
    /// What a fixture gets: the application, a fresh tenant, its admin key and a client of the router.
    public struct Context: Sendable {
        public let app: TestApp
        public let tenant: Tenant
        public let key: String
        public let client: any TestClientProtocol
    }

    /// Query parameters the route needs besides paging (`q=disk` for a search), or empty.
    public var query: String
    /// Adds rows that the list shows (at least `count`; more is fine).
    public var add: @Sendable (_ context: Context, _ count: Int) async throws -> Void

    public init(query: String = "", add: @escaping @Sendable (_ context: Context, _ count: Int) async throws -> Void) {
        self.query = query
        self.add = add
    }

    /// POSTs `count` bodies to `path`, each made from its index; every one must be created.
    public static func posting(_ path: String, query: String = "", _ body: @escaping @Sendable (Int) -> String) -> ListFixture {
        ListFixture(query: query) { context, count in
            for index in 0..<count {
                let response = try await context.client.call(.post, path, key: context.key, json: body(index))
                guard (200..<300).contains(Int(response.status.code)) else {
                    throw TestDatabase.SetupError("POST \(path) for the paging check: \(response.status) \(response.text)")
                }
            }
        }
    }

    /// The platform's lists, present in every service: users, and the audit log (filled by creating users).
    public static let platform: [String: ListFixture] = [
        "/api/v1/users": users,
        "/api/v1/audit-log": ListFixture { context, count in
            try await users.add(context, count)
            await context.app.platform.audit.flush()
        },
        "/api/v1/outbox": ListFixture { context, count in
            try await context.app.database.withTenant(context.tenant.slug) { connection in
                for index in 0..<count {
                    try await OutboxStore(logger: TestDatabase.logger).enqueue(
                        OutboundMessage(provider: "paging", key: "paging-\(index)-\(UUID())", url: "http://127.0.0.1:9/"), mode: .sandbox,
                        at: context.app.platform.clock.now, on: connection)
                }
            }
        },
    ]

    static let users = posting("/api/v1/users") { index in
        #"{"email":"pager-\#(index)-\#(UUID().uuidString.prefix(8))@example.com","display_name":"Pager \#(index)","role":"engineer"}"#
    }
}

extension Conformance {
    /// The kind of paging a documented list route declares.
    public enum ListKind: String, Sendable { case cursor, offset }

    /// Every GET operation whose parameters include `cursor` or `offset`: the list routes, read from the document, so a
    /// new list route is checked as soon as it is documented (and the coverage test makes sure it is).
    public static func listRoutes(in document: String) -> [String: ListKind] {
        var result: [String: ListKind] = [:]
        var inPaths = false
        var path: String?
        var method: String?
        for line in document.split(separator: "\n", omittingEmptySubsequences: false) {
            if !line.hasPrefix(" ") && !line.isEmpty {
                inPaths = line == "paths:"
                continue
            }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), !line.hasPrefix("   ") {
                path = String(line.dropFirst(2).dropLast(line.hasSuffix(":") ? 1 : 0))
                method = nil
            } else if line.hasPrefix("    "), !line.hasPrefix("     ") {
                method = line.dropFirst(4).split(separator: ":").first.map(String.init)
            } else if method == "get", let path {
                if line.contains("components/parameters/Cursor") || line.contains("name: cursor,") { result[path] = .cursor }
                if line.contains("components/parameters/Offset") || line.contains("name: offset,") { result[path] = result[path] ?? .offset }
            }
        }
        return result
    }

    /// Pages through every list route of the service with a small limit over more rows than one page, in a fresh tenant
    /// per route. Every row is seen exactly once; a cursor list ends on a null `next_cursor` and keeps its rows when new
    /// ones arrive between pages; an offset list's `total` is what was read. Returns the problems found.
    public static func pagingViolations(_ app: TestApp, fixtures: [String: ListFixture], limit: Int = 3) async throws -> [String] {
        let lists = listRoutes(in: app.definition.openAPIDocument)
        var problems: [String] = []
        for path in fixtures.keys.sorted() where lists[path] == nil {
            problems.append("GET \(path) has a paging fixture but is not a documented cursor or offset list")
        }
        for (path, kind) in lists.sorted(by: { $0.key < $1.key }) {
            guard let fixture = fixtures[path] else {
                problems.append("GET \(path) is a \(kind.rawValue) list without a paging fixture: add one to the service's conformance test")
                continue
            }
            if path.contains("{") {
                problems.append("GET \(path): lists with path parameters need the check to learn their parameters")
                continue
            }
            let (tenant, key) = try await TestDatabase.makeTenant(app.database, definition: app.definition)
            problems += try await app.test { client in
                let context = ListFixture.Context(app: app, tenant: tenant, key: key, client: client)
                let checker = ListPager(client: client, key: key, path: path, query: fixture.query)
                try await fixture.add(context, limit * 2 + 2)
                let everything = try await checker.ids(of: checker.page(limit: 100, cursor: nil, offset: nil))
                guard everything.count > limit * 2 else {
                    return ["GET \(path): the fixture made \(everything.count) rows, fewer than three pages of \(limit)"]
                }
                switch kind {
                case .cursor:
                    return try await checker.cursorProblems(limit: limit, expected: everything) { try await fixture.add(context, 2) }
                case .offset:
                    return try await checker.offsetProblems(limit: limit, expected: everything)
                }
            }
        }
        return problems
    }
}

/// Reads one list route page by page.
struct ListPager {
    let client: any TestClientProtocol
    let key: String
    let path: String
    let query: String

    func page(limit: Int, cursor: String?, offset: Int?) async throws -> JSONValue {
        var parameters = query.isEmpty ? [] : [query]
        parameters.append("limit=\(limit)")
        if let cursor { parameters.append("cursor=\(cursor)") }
        if let offset { parameters.append("offset=\(offset)") }
        let response = try await client.call(.get, path + "?" + parameters.joined(separator: "&"), key: key)
        guard response.status == .ok else { throw TestDatabase.SetupError("GET \(path): \(response.status) \(response.text)") }
        return response.json
    }

    func ids(of page: JSONValue) throws -> [String] {
        guard let items = page["items"]?.arrayValue else { throw TestDatabase.SetupError("GET \(path): no items array") }
        return try items.map { item in
            guard let id = item["id"]?.stringValue else { throw TestDatabase.SetupError("GET \(path): an item without an id") }
            return id.lowercased()
        }
    }

    /// Follows `next_cursor` to the end, calling `between` after the first page.
    func cursorProblems(limit: Int, expected: [String], between: () async throws -> Void) async throws -> [String] {
        var problems: [String] = []
        var seen: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await page(limit: limit, cursor: cursor, offset: nil)
            let ids = try ids(of: page)
            pages += 1
            guard page.objectValue?.keys.contains("next_cursor") == true else { return ["GET \(path): next_cursor is missing"] }
            cursor = page["next_cursor"]?.stringValue
            if ids.count > limit { problems.append("GET \(path): page \(pages) has \(ids.count) rows for limit \(limit)") }
            if cursor != nil && ids.count < limit { problems.append("GET \(path): page \(pages) is short (\(ids.count)) but not the last") }
            if cursor != nil && ids.isEmpty { return problems + ["GET \(path): an empty page with a next_cursor"] }
            seen += ids
            if pages == 1 { try await between() }
        } while cursor != nil && pages < 100
        return problems + Self.compare(path, seen: seen, expected: expected)
    }

    /// Reads by offset until `total`; with nothing added meanwhile, `total` is what was read.
    func offsetProblems(limit: Int, expected: [String]) async throws -> [String] {
        var problems: [String] = []
        var seen: [String] = []
        var offset = 0
        var total = Int.max
        while offset < total && offset < limit * 100 {
            let page = try await page(limit: limit, cursor: nil, offset: offset)
            guard let reported = page["total"]?.numberValue.map(Int.init) else { return ["GET \(path): total is missing"] }
            total = reported
            let ids = try ids(of: page)
            if ids.count > limit { problems.append("GET \(path): offset \(offset) returned \(ids.count) rows for limit \(limit)") }
            if ids.isEmpty && offset < total { return problems + ["GET \(path): an empty page at offset \(offset) of \(total)"] }
            seen += ids
            offset += limit
        }
        if total != seen.count { problems.append("GET \(path): total is \(total) but \(seen.count) rows were read") }
        if total != expected.count { problems.append("GET \(path): total is \(total), the list holds \(expected.count)") }
        return problems + Self.compare(path, seen: seen, expected: expected)
    }

    /// Every expected row once; rows added while paging may be missing (they sort before the cursor) but never doubled.
    static func compare(_ path: String, seen: [String], expected: [String]) -> [String] {
        var problems: [String] = []
        let repeated = Dictionary(grouping: seen, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
        if !repeated.isEmpty { problems.append("GET \(path): rows seen twice: \(repeated)") }
        let missing = Set(expected).subtracting(seen)
        if !missing.isEmpty { problems.append("GET \(path): \(missing.count) of \(expected.count) rows never seen while paging") }
        return problems
    }
}
