import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import OwlCore

/// A service built by its composition root against the test database, plus helpers to call it.
/// The router is fully built before any test uses it and never changed afterwards, so sharing it is safe.
public struct TestApp: @unchecked Sendable {
    public let app: ServiceApplication
    public let database: Database
    public let definition: ServiceDefinition
    public var platform: Platform { app.platform }
    public var routes: [RouteDescriptor] { app.routes }

    public static func make(definition: ServiceDefinition = PlatformOnlyService.definition, database: Database? = nil,
                            clock: WallClock = .system, configure: (inout ServiceConfig) -> Void = { _ in }) async throws -> TestApp {
        let database = if let database { database } else { try await TestDatabase.database(for: definition) }
        var config = ServiceConfig(serviceName: definition.name, databaseURL: try TestDatabase.url, devMode: false,
                                   logLevel: .critical, logFormat: .text, encryptionKey: SecretKey(bytes: Array(repeating: 7, count: 32))!)
        config.sessions.bcryptCost = 4
        configure(&config)
        let audit = AuditWriter(database: database, logger: TestDatabase.logger)
        let platform = Platform(config: config, database: database, audit: audit, metrics: HTTPMetrics(prefix: definition.name),
                                logger: TestDatabase.logger, httpClient: HTTPClient.shared, clock: clock)
        return TestApp(app: ServiceApplication(definition: definition, platform: platform, httpClient: HTTPClient.shared), database: database,
                       definition: definition)
    }

    /// Runs `body` with a client that calls the router in process.
    public func test<T: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        let application = Application(router: app.router, logger: TestDatabase.logger)
        return try await application.test(.router) { client in try await body(client) }
    }

    /// Runs `body` against a real server on a loopback port.
    public func live<T: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        let application = Application(router: app.router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: TestDatabase.logger)
        return try await application.test(.live) { client in try await body(client) }
    }
}

extension TestClientProtocol {
    /// Sends a request with an API key and an optional JSON body.
    @discardableResult
    public func call(_ method: HTTPRequest.Method, _ uri: String, key: String? = nil, json: String? = nil,
                     headers extra: HTTPFields = [:]) async throws -> TestResponse {
        var headers = extra
        if let key { headers[.init("X-API-Key")!] = key }
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }
}

extension TestClientProtocol {
    /// Posts a console form (`application/x-www-form-urlencoded`) with an API key.
    @discardableResult
    public func submit(_ uri: String, key: String, form: [(String, String)], headers extra: HTTPFields = [:]) async throws -> TestResponse {
        var headers = extra
        headers[.init("X-API-Key")!] = key
        headers[.contentType] = "application/x-www-form-urlencoded"
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: FormEncoding.encode(form)))
    }
}

extension TestResponse {
    public var text: String { String(buffer: body) }

    public var json: JSONValue { JSONValue.parse(text) ?? .null }

    /// `error.code` of a JSON error body.
    public var errorCode: String? { json.objectValue?["error"]?.objectValue?["code"]?.stringValue }
}

extension JSONValue {
    public subscript(_ key: String) -> JSONValue? { objectValue?[key] }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var numberValue: Double? { if case .number(let n) = self { n } else { nil } }
    public var intValue: Int? { numberValue.map { Int($0) } }
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
}
