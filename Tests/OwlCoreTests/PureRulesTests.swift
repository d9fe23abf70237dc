import Foundation
import Testing
@testable import OwlCore

@Suite struct TenantSlugTests {
    @Test(arguments: [
        ("acme", true), ("a", true), ("acme_2", true), ("a" + String(repeating: "b", count: 40), true),
        ("", false), ("Acme", false), ("1acme", false), ("_acme", false), ("acme-corp", false), ("acme corp", false),
        ("a" + String(repeating: "b", count: 41), false), ("acme;drop", false), ("acmé", false), ("acme\"", false),
    ])
    func validation(raw: String, valid: Bool) {
        #expect((TenantSlug(raw) != nil) == valid)
    }

    @Test func schemaName() {
        #expect(TenantSlug("acme")?.schemaName == "tenant_acme")
        #expect(TenantSlug("acme")?.quotedSchema == "\"tenant_acme\"")
    }
}

@Suite struct RoleTests {
    @Test func ordering() {
        #expect(Role.readonly < .engineer && Role.engineer < .manager && Role.manager < .admin)
        #expect(Role.allCases.sorted() == [.readonly, .engineer, .manager, .admin])
    }

    @Test(arguments: [
        (Access.role(.manager), Role.engineer, false, 403), (.role(.manager), .manager, false, 0), (.role(.manager), .admin, false, 0),
        (.role(.readonly), .readonly, true, 403), (.ingestion(.engineer), .admin, true, 0), (.ingestion(.engineer), .readonly, true, 403),
    ])
    func authorization(access: Access, role: Role, webhookOnly: Bool, expectedStatus: Int) throws {
        let tenant = Tenant(id: UUID(), name: "T", slug: TenantSlug("t")!, createdAt: Date())
        let principal = Principal(tenant: tenant, role: role, method: .apiKey, actor: "k", scopes: webhookOnly ? [.webhook] : [])
        do {
            _ = try OwlRouter.authorize(principal, access)
            #expect(expectedStatus == 0)
        } catch let error as APIError {
            #expect(Int(error.status.code) == expectedStatus)
        }
        #expect(throws: APIError.self) { try OwlRouter.authorize(nil, access) }
    }
}

@Suite struct SQLScriptTests {
    @Test func splitsAtTopLevelSemicolons() {
        let script = """
            -- a comment; with a semicolon
            CREATE TABLE a (x text DEFAULT 'a;b');
            /* block; comment */
            CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN NEW.x := 'y;'; RETURN NEW; END $$ LANGUAGE plpgsql;
            CREATE FUNCTION g() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;
            SELECT "we;ird" FROM a;
            -- trailing comment
            """
        let statements = SQLScript.statements(script)
        #expect(statements.count == 4)
        #expect(statements[0].hasSuffix("DEFAULT 'a;b')"))
        #expect(statements[1].contains("RETURN NEW; END $$ LANGUAGE plpgsql"))
        #expect(statements[2].contains("$body$ SELECT 1; $body$"))
        #expect(statements[3] == "SELECT \"we;ird\" FROM a")
    }

    @Test func escapedQuotes() {
        #expect(SQLScript.statements("SELECT 'it''s; fine'; SELECT 2").count == 2)
    }
}

@Suite struct CursorTests {
    @Test func roundTrip() throws {
        let cursor = Cursor(time: Date(timeIntervalSince1970: 1_790_000_000.123456), id: UUID())
        let decoded = try #require(Cursor(encoded: cursor.encoded))
        #expect(decoded.id == cursor.id)
        #expect(decoded.micros == cursor.micros)
        #expect(!cursor.encoded.contains("=") && !cursor.encoded.contains("/") && !cursor.encoded.contains("+"))
    }

    @Test(arguments: ["", "not base64!", "YWJj", String(repeating: "A", count: 300), "MTIzOm5vdC1hLXV1aWQ"])
    func rejectsGarbage(raw: String) {
        #expect(Cursor(encoded: raw) == nil)
    }
}

@Suite struct ServiceConfigTests {
    let base = ["NIGHTOWL_DATABASE_URL": "postgres://owl:pw@127.0.0.1:5432/nightowl", "NIGHTOWL_ENCRYPTION_KEY": String(repeating: "A", count: 43) + "="]

    @Test func defaults() throws {
        let config = try ServiceConfig.load(prefix: "NIGHTOWL", serviceName: "nightowl", defaultPort: 8080, environment: base)
        #expect(config.listenPort == 8080)
        #expect(config.bodyLimitBytes == 1 << 20)
        #expect(config.databaseURL.database == "nightowl")
        #expect(config.databaseURL.password == "pw")
        #expect(config.devMode == false)
        #expect(config.logFormat == .json)
        // The worker's status server sits beside the API's port.
        #expect(config.metricsHost == "127.0.0.1" && config.metricsPort == 9080)
    }

    @Test(arguments: [
        ([:], "127.0.0.1", 9080),
        (["NIGHTOWL_LISTEN": "0.0.0.0:8443"], "0.0.0.0", 9443),
        (["NIGHTOWL_LISTEN": ":65000"], "0.0.0.0", 64000),
        (["NIGHTOWL_METRICS_LISTEN": ":9100"], "0.0.0.0", 9100),
        (["NIGHTOWL_LISTEN": "10.0.0.5:8080", "NIGHTOWL_METRICS_LISTEN": "9100"], "10.0.0.5", 9100),
    ])
    func workerStatusAddress(extra: [String: String], host: String, port: Int) throws {
        let config = try ServiceConfig.load(prefix: "NIGHTOWL", serviceName: "nightowl", defaultPort: 8080, environment: base.merging(extra) { $1 })
        #expect(config.metricsHost == host && config.metricsPort == port)
    }

    @Test(arguments: [
        ("NIGHTOWL_DATABASE_URL", nil as String?),
        ("NIGHTOWL_DATABASE_URL", "mysql://x@y/z"),
        ("NIGHTOWL_DATABASE_URL", "postgres://host-only"),
        ("NIGHTOWL_LISTEN", "0.0.0.0:99999"),
        ("NIGHTOWL_LISTEN", "abc"),
        ("NIGHTOWL_METRICS_LISTEN", "127.0.0.1:0"),
        ("NIGHTOWL_DEV_MODE", "maybe"),
        ("NIGHTOWL_LOG_LEVEL", "loud"),
        ("NIGHTOWL_LOG_FORMAT", "xml"),
        ("NIGHTOWL_BODY_LIMIT_BYTES", "12"),
        ("NIGHTOWL_CORS_ORIGINS", "not an origin"),
        ("NIGHTOWL_ENCRYPTION_KEY", "short"),
        ("NIGHTOWL_ENCRYPTION_KEY", nil),
        ("NIGHTOWL_OIDC_ISSUER", "ftp://issuer"),
        ("NIGHTOWL_OIDC_AUDIENCE", nil),
    ])
    func namesTheBadVariable(variable: String, value: String?) {
        var env = base
        env[variable] = value
        if variable == "NIGHTOWL_OIDC_AUDIENCE" { env["NIGHTOWL_OIDC_ISSUER"] = "https://id.example.com" }
        do {
            _ = try ServiceConfig.load(prefix: "NIGHTOWL", serviceName: "nightowl", defaultPort: 8080, environment: env)
            Issue.record("\(variable)=\(value ?? "<unset>") was accepted")
        } catch {
            #expect(error.variable == variable)
            #expect(error.description.contains(variable))
        }
    }

    @Test func devModeSuppliesAKey() throws {
        var env = base
        env["NIGHTOWL_ENCRYPTION_KEY"] = nil
        env["NIGHTOWL_DEV_MODE"] = "true"
        let config = try ServiceConfig.load(prefix: "NIGHTOWL", serviceName: "nightowl", defaultPort: 8080, environment: env)
        #expect(config.devMode)
        #expect(config.logFormat == .text)
    }
}

@Suite struct SecretKeyTests {
    let key = SecretKey(bytes: Array(repeating: 1, count: 32))!

    @Test func sealsAndOpens() throws {
        let sealed = try key.seal("xoxb-secret", context: "tenant-a:slack")
        #expect(!sealed.contains("xoxb"))
        #expect(try key.open(sealed, context: "tenant-a:slack") == "xoxb-secret")
        #expect(try key.seal("xoxb-secret", context: "tenant-a:slack") != sealed, "a fresh nonce every time")
    }

    @Test func bindsContextAndKey() throws {
        let sealed = try key.seal("token", context: "tenant-a:slack")
        #expect(throws: (any Error).self) { try key.open(sealed, context: "tenant-b:slack") }
        #expect(throws: (any Error).self) { try SecretKey(bytes: Array(repeating: 2, count: 32))!.open(sealed, context: "tenant-a:slack") }
        #expect(SecretKey(bytes: [1, 2, 3]) == nil)
    }
}

@Suite struct SmallRuleTests {
    @Test(arguments: [("+4930123456", true), ("+14155550123", true), ("4930123456", false), ("+0123456789", false),
                      ("+49 30 123", false), ("+1234567", false), ("+1234567890123456", false)])
    func e164(raw: String, valid: Bool) {
        #expect(PhoneNumber.isE164(raw) == valid)
    }

    @Test(arguments: [("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", nil), ("Bearer", nil), ("Bearer ", nil)])
    func bearer(header: String, token: String?) {
        #expect(Authenticator.bearerToken(header) == token)
    }

    @Test(arguments: [("abc-123", true), (String(repeating: "a", count: 128), true), (String(repeating: "a", count: 129), false),
                      ("a b", false), ("a\nb", false), ("", false)])
    func requestIDs(value: String, accepted: Bool) {
        #expect(RequestIDMiddleware.isAcceptable(value) == accepted)
    }

    @Test func apiKeyMaterial() {
        let key = APIKeyMaterial.generate()
        #expect(key.hasPrefix("ow_") && key.count == 51)
        #expect(APIKeyMaterial.isPlausible(key))
        #expect(APIKeyMaterial.hash(key) == APIKeyMaterial.hash(key))
        #expect(APIKeyMaterial.hash(key).count == 64)
        #expect(APIKeyMaterial.prefix(key) == String(key.prefix(11)))
        #expect(APIKeyMaterial.generate() != key)
        // SHA-256 of "abc", the FIPS 180-2 test vector.
        #expect(APIKeyMaterial.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(!APIKeyMaterial.isPlausible("eyJhbGciOi.x.y"))
    }

    @Test func openAPIOperationsParser() {
        let doc = """
            openapi: 3.1.0
            paths:
              /a:
                parameters: []
                get:
                  summary: x
                post:
                  summary: y
              /b/{id}:
                delete:
                  responses: {}
            components:
              schemas:
                get: {}
            """
        #expect(OpenAPIDocument.operations(in: doc) == ["GET /a", "POST /a", "DELETE /b/{id}"])
    }

    @Test func auditDiff() {
        struct Thing: Encodable { var a: Int; var b: String; var updated_at: String }
        let diff = AuditDiff.between(Thing(a: 1, b: "x", updated_at: "1"), Thing(a: 2, b: "x", updated_at: "2"))
        #expect(diff == .object(["a": .object(["old": .number(1), "new": .number(2)])]))
    }
}

@Suite struct JSONTextTests {
    @Test(arguments: [["a": "b"], [:], ["quote\"key": "line\nbreak\ttab\\slash", "ctl": "\u{1}", "ünï": "💥"]])
    func roundTripsThroughAParser(map: [String: String]) throws {
        let parsed = try #require(JSONValue.parse(JSONText.object(map)))
        #expect(parsed == .object(map.mapValues { .string($0) }))
    }
}

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2026-02-20T10:00:00Z", 1_771_581_600.0), ("2026-02-20T10:00:00.123Z", 1_771_581_600.123),
        ("2026-02-20T11:30:00+01:30", 1_771_581_600.0), ("2026-02-20T05:00:00-05:00", 1_771_581_600.0),
        ("2024-02-29T00:00:00Z", 1_709_164_800.0), ("1970-01-01T00:00:00Z", 0), ("2026-02-20t10:00:00.5z", 1_771_581_600.5),
        ("0001-01-01T00:00:00Z", -62_135_596_800),
    ])
    func parses(text: String, epoch: Double) throws {
        let date = try #require(Timestamp.parse(text))
        #expect(abs(date.timeIntervalSince1970 - epoch) < 0.0005)
    }

    @Test(arguments: ["", "yesterday", "2026-02-30T10:00:00Z", "2026-13-01T10:00:00Z", "2026-02-20T25:00:00Z", "2026-02-20T10:00:00",
                      "2026-02-20T10:00:00.Z", "2026-02-20T10:00:00+0100", "2026-02-20T10:00:00Zjunk", "2023-02-29T00:00:00Z"])
    func refuses(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }

    @Test(arguments: [0.0, 1_771_581_600.123, 951_782_400.999, -62_135_596_800, 4_102_444_799.5])
    func formatsAndRoundTrips(epoch: Double) throws {
        let text = Timestamp.format(Date(timeIntervalSince1970: epoch))
        #expect(text.count == 24 && text.hasSuffix("Z"))
        let back = try #require(Timestamp.parse(text))
        #expect(abs(back.timeIntervalSince1970 - epoch) < 0.0006)
    }

    @Test func knownText() {
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_771_581_600.123)) == "2026-02-20T10:00:00.123Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z")
    }
}

@Suite struct JSONParserTests {
    @Test(arguments: [
        (#"{"a":[1,-2.5,3e2,true,false,null],"b":{"c":"d"}}"#, JSONValue.object(["a": .array([.number(1), .number(-2.5), .number(300), .bool(true), .bool(false), .null]), "b": .object(["c": .string("d")])])),
        (#"  "esc\"\\\/\b\f\n\r\t\u00e9\ud83d\udca5"  "#, .string("esc\"\\/\u{8}\u{c}\n\r\té💥")),
        ("[]", .array([])), ("{}", .object([:])), ("0", .number(0)), (#""ünï""#, .string("ünï")),
    ])
    func parses(text: String, expected: JSONValue) {
        #expect(JSONValue.parse(text) == expected)
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\":}", "01", "1.", "-", "tru", "nul", "\"unterminated", "\"bad \\x escape\"",
                      "\"\\ud83d alone\"", "{\"a\" 1}", "[1] trailing", "\"tab\tinside\"", "1e", "NaN", "{'a':1}",
                      String(repeating: "[", count: 300) + String(repeating: "]", count: 300)])
    func refuses(text: String) {
        #expect(JSONValue.parse(text) == nil)
    }

    /// Strings without escapes take a path of their own; bytes that are not UTF-8 are refused on both paths.
    @Test func stringsPlainEscapedAndInvalid() {
        #expect(JSONParser.parse(Array(#"["plain","a\"b","pre\u00e9post","ü plain"]"#.utf8))
                == .array([.string("plain"), .string("a\"b"), .string("preépost"), .string("ü plain")]))
        #expect(JSONParser.parse([0x22, 0xFF, 0x22]) == nil, "not UTF-8, no escape")
        #expect(JSONParser.parse([0x22, 0x61, 0x80, 0x22]) == nil, "a lone continuation byte after ASCII")
        #expect(JSONParser.parse([0x22, 0x61, 0xC3, 0xA9, 0x7F, 0x22]) == .string("aé\u{7F}"), "ASCII, then UTF-8, then DEL")
        #expect(JSONParser.parse([0x22, 0x5C, 0x6E, 0xC3, 0x22]) == nil, "not UTF-8 after an escape")
        #expect(JSONParser.parse([0x22, 0x61, 0x01, 0x22]) == nil, "a raw control character")
    }
}

@Suite struct RandomUUIDTests {
    @Test func systemRandomIdsAreVersion4AndDiffer() {
        let ids = (0..<1_000).map { _ in UUID.random() }
        #expect(Set(ids).count == 1_000)
        for id in ids {
            let text = Array(id.uuidString)
            #expect(text[14] == "4", "version 4: \(id)")
            #expect("89AB".contains(text[19]), "RFC 9562 variant: \(id)")
        }
    }

    @Test func textIsFoundationsFormInBothCases() {
        let fixed = [UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
                     UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255)),
                     UUID(uuidString: "01234567-89AB-CDEF-FEDC-BA9876543210")!]
        for id in fixed + (0..<1_000).map({ _ in UUID.random() }) {
            #expect(id.text() == id.uuidString)
            #expect(id.text(lowercase: true) == id.uuidString.lowercased())
        }
        #expect(fixed[2].text(lowercase: true) == "01234567-89ab-cdef-fedc-ba9876543210")
    }

    @Test func requestIdsAreVersion4AndNeverRepeat() {
        let source = RequestIDSource()
        let ids = (0..<20_000).map { _ in source.next() }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(1_000) {
            let text = Array(id.uuidString)
            #expect(text[14] == "4" && "89AB".contains(text[19]), "\(id)")
        }
        // The same seed gives the same sequence; another seed another one.
        let a = RequestIDSource(seed: 42), b = RequestIDSource(seed: 42), c = RequestIDSource(seed: 43)
        let first = (0..<3).map { _ in a.next() }
        #expect(first == (0..<3).map { _ in b.next() })
        #expect(Set(first).isDisjoint(with: (0..<3).map { _ in c.next() }))
        #expect(RequestIDSource.mix(0) != RequestIDSource.mix(1))
    }
}

@Suite struct RequestTextRulesTests {
    @Test(arguments: [
        (#"{"a":"x"}"#, false),
        (#"{"a":"\u0000"}"#, true),
        (#"{"a":"x\u0000y"}"#, true),
        (#"{"a":"\\u0000"}"#, false),
        (#"{"a":"\\\u0000"}"#, true),
        (#"{"a":"\u00001"}"#, true),
        (#"{"a":"\u0001"}"#, false),
        (#"{"a":"\"}"#, false),
        (#"\u000"#, false),
    ])
    func escapedNULIsFound(json: String, expected: Bool) {
        #expect(JSON.containsEscapedNUL(Data(json.utf8)) == expected)
    }

    @Test(arguments: [
        ("/a?b=c", false), ("/a?b=%00", true), ("/a%00/b", true), ("/a?b=%000", true), ("/a?b=%100", false),
        ("/a?b=%0", false), ("/a?b=%", false), ("/a?b=%%00", true), ("/a?b=100%", false),
    ])
    func percentEncodedNULIsFound(uri: String, expected: Bool) {
        #expect(uri.utf8.containsPercentEncodedNUL == expected)
    }

    @Test(arguments: [
        ("/api/v1/users", "/api/v1/users", [2, 2, 2] as [Int]?),
        ("/api/v1/users/{id}", "/api/v1/users/42", [2, 2, 2, 1]),
        ("/api/v1/users/{id}", "/api/v1/users", nil),
        ("/api/v1/users/{id}", "/api/v1/users/42/x", nil),
        ("/api/v1/users/:id", "/api/v1/users/42", [2, 2, 2, 1]),
        ("/docs/**", "/docs/a/b/c", [2, 0]),
        ("/a/*/c", "/a/b/c", [2, 1, 2]),
        ("/feeds/{token}.ics", "/feeds/abc.ics", [2, 1]),
        ("/feeds/{token}.ics", "/feeds/abc.txt", nil),
        ("/api/v1/incidents/search", "/api/v1/incidents/search", [2, 2, 2, 2]),
    ])
    func routePatternsRankLikeTheRouter(pattern: String, path: String, expected: [Int]?) {
        #expect(RoutePattern.specificity(pattern, path) == expected)
    }

    @Test(arguments: [("22021", true), ("22P05", true), ("22003", true), ("23505", true), ("23514", true),
                      ("40001", false), ("42P01", false), ("08006", false), ("XX000", false)])
    func databaseRefusalsOfTheClientsDataAre4xx(sqlState: String, clients: Bool) {
        #expect(ErrorMiddleware.isClientData(sqlState) == clients)
    }

    @Test(arguments: [
        ("q=disk+full", "q", "disk full"), ("q=disk%20full", "q", "disk full"), ("q=a%2Bb", "q", "a+b"),
        ("q=%zz", "q", "%zz"), ("a=1&q=x%3Dy&b", "q", "x=y"), ("q=caf%C3%A9", "q", "café"), ("q+x=1", "q x", "1"),
    ])
    func queryValuesAreFormDecoded(raw: String, key: String, expected: String) {
        #expect(Query(rawQuery: raw)[key] == expected)
    }

    @Test func queryTimesKeepAnOffsetTypedUnencoded() throws {
        let expected = Timestamp.parse("2026-01-31T08:00:00+01:00")
        #expect(expected != nil)
        #expect(try Query(rawQuery: "at=2026-01-31T08:00:00+01:00").time("at") == expected)
        #expect(try Query(rawQuery: "at=2026-01-31T08:00:00%2B01:00").time("at") == expected)
        #expect(throws: APIError.self) { try Query(rawQuery: "at=2026-01-31 08:00:00").time("at") }
    }

    @Test func queryListsTakeFormSpaces() {
        #expect(Query(rawQuery: "severity=critical,+major&severity=info").list("severity") == ["critical", "major", "info"])
        #expect(Query(rawQuery: "b&a=").list("b") == [])
    }

    @Test func aLiteralSegmentWinsOverAParameter() {
        let list = RouteList()
        list.value = [
            RouteDescriptor(method: .get, path: "/api/v1/incidents/search", access: .open),
            RouteDescriptor(method: .get, path: "/api/v1/incidents/{id}", access: .open),
            RouteDescriptor(method: .put, path: "/api/v1/incidents/{id}", access: .open),
            RouteDescriptor(method: .delete, path: "/api/v1/incidents/{id}", access: .open),
        ]
        #expect(list.methods(matching: "/api/v1/incidents/search") == ["GET", "HEAD"])
        #expect(list.methods(matching: "/api/v1/incidents/\(UUID())") == ["GET", "PUT", "DELETE", "HEAD"])
        #expect(list.methods(matching: "/api/v1/incidents") == [])
    }
}
