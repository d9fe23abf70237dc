import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import Prometheus

/// The parts every Owl service is built from, passed explicitly to each domain's routes.
public struct Platform: Sendable {
    public let config: ServiceConfig
    public let database: Database
    public let audit: AuditWriter
    public let metrics: HTTPMetrics
    public let tenantConfig: TenantConfigService
    public let logger: Logger
    public let startedAt: Date
    /// Every "now" of the service's handlers and jobs.
    public let clock: WallClock
    public let version: String
    public let authenticator: Authenticator
    /// For calls a request must make itself (a Slack modal's trigger expires before a worker could use it).
    public let httpClient: HTTPClient
    /// The circuit breakers of this process's calls to the other Owl services.
    public let serviceBreakers = CircuitBreakers()

    public init(config: ServiceConfig, database: Database, audit: AuditWriter, metrics: HTTPMetrics, logger: Logger,
                httpClient: HTTPClient = .shared, version: String = OwlVersion.current, clock: WallClock = .system,
                startedAt: Date? = nil) {
        self.clock = clock
        self.config = config
        self.database = database
        self.audit = audit
        self.metrics = metrics
        self.tenantConfig = TenantConfigService(database: database, key: config.encryptionKey, clock: clock)
        self.logger = logger
        self.startedAt = startedAt ?? clock.now
        self.version = version
        self.httpClient = httpClient
        let oidc = config.oidc.map { OIDCVerifier(settings: $0, httpClient: httpClient, logger: logger, clock: clock) }
        self.authenticator = Authenticator(database: database, oidc: oidc, devMode: config.devMode, logger: logger, clock: clock,
                                           cookie: SessionCookie(service: config.serviceName, publicURL: config.publicURL),
                                           sessionSettings: config.sessions)
    }

    /// Decodes a JSON body under the configured size limit.
    public func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        try await JSON.decode(type, from: request, limit: config.bodyLimitBytes)
    }

    /// Reads a JSON body of any shape (webhooks) under the size limit, through the fast parser.
    public func decodeJSONValue(from request: Request) async throws -> JSONValue {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: config.bodyLimitBytes)
        } catch {
            throw APIError(.contentTooLarge, code: "payload_too_large", message: "request body exceeds \(config.bodyLimitBytes) bytes")
        }
        guard buffer.readableBytes > 0 else { throw APIError.badRequest("request body is empty", code: "invalid_json") }
        guard let value = JSONValue.parse(buffer) else { throw APIError.badRequest("request body is not valid JSON", code: "invalid_json") }
        return value
    }

    /// Records a mutation in the tenant's audit log (buffered; see `AuditWriter`).
    public func audit(_ context: OwlRequestContext, _ principal: Principal, action: String, resource: String,
                      id: String?, diff: JSONValue? = nil) async {
        await audit.record(AuditEntry(actor: principal.actor, actorType: principal.method.rawValue, action: action,
                                      resource: resource, resourceID: id, diff: diff, requestID: context.requestID,
                                      ipAddress: context.remoteAddress, createdAt: clock.now), tenant: principal.tenant.slug)
    }
}

public enum OwlVersion {
    public static let current = "0.1.0"
}

extension Platform {
    /// A client for calling another Owl service on a tenant's behalf.
    public func service(_ target: OwlServiceTarget) -> OwlServiceClient {
        OwlServiceClient(target: target, tenantConfig: tenantConfig, http: httpClient, clock: clock, breakers: serviceBreakers,
                         metrics: metrics, logger: logger)
    }

    /// The base URL for links that leave the service: the configured public URL, or else the request's own host.
    public func baseURL(for request: Request) -> String {
        if let url = config.publicURL { return url }
        let host = request.head.authority ?? "\(config.listenHost):\(config.listenPort)"
        return "http://\(host)"
    }
}
