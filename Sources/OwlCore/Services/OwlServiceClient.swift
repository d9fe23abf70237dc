import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Prometheus

/// The Owl services one service calls.
public enum OwlServiceTarget: String, Sendable, CaseIterable {
    case nightowl, bookowl, ticketowl

    /// The tenant settings that say where the service is and which key to call it with.
    public var urlSetting: String { "\(rawValue)_api_url" }
    public var keySecret: String { "\(rawValue)_api_key" }
}

/// Why a call to another Owl service did not give an answer. A caller degrades its feature on any of them (a pane
/// says "unavailable"); none is a reason to fail its own core work.
public enum ServiceCallError: Error, Sendable, Equatable {
    /// The tenant has not set the service's URL or key.
    case notConfigured(String)
    /// Too many recent failures: the circuit is open and the call was not made.
    case circuitOpen
    case timedOut
    case unreachable(String)
    /// The service answered with a 5xx (after the retries an idempotent call gets).
    case serverError(Int)
    /// The service refused the call (4xx): retrying would not help.
    case refused(Int, String)
}

/// A 2xx answer from another Owl service.
public struct ServiceResponse: Sendable {
    public var status: Int
    public var body: String
    public var json: JSONValue? { JSONValue.parse(body) }
}

/// Calls another Owl service with the tenant's key for it (`X-API-Key`, from the tenant's secrets) at the tenant's URL
/// for it. Each call has a timeout (2 s unless asked otherwise); only idempotent calls (GET, PUT, DELETE, or a POST the
/// caller marks so) are retried, twice, on a 5xx, a timeout or a refused connection; a circuit breaker per target and
/// URL stops calls for 30 s after 5 failures in a row. Metrics: `owl_service_client_requests_total{target,outcome}` and
/// `owl_service_client_request_duration_seconds{target}`.
public struct OwlServiceClient: Sendable {
    public let target: OwlServiceTarget
    let tenantConfig: TenantConfigService
    let http: HTTPClient
    let clock: WallClock
    let breakers: CircuitBreakers
    let registry: PrometheusCollectorRegistry?
    let logger: Logger
    public var timeout: Duration = .seconds(2)
    /// Pause before the first retry; doubled before the second.
    public var retryPause: Duration = .milliseconds(100)

    public init(target: OwlServiceTarget, tenantConfig: TenantConfigService, http: HTTPClient, clock: WallClock, breakers: CircuitBreakers,
                metrics: HTTPMetrics?, logger: Logger) {
        self.target = target
        self.tenantConfig = tenantConfig
        self.http = http
        self.clock = clock
        self.breakers = breakers
        self.registry = metrics?.registry
        self.logger = logger
    }

    public func get(_ path: String, tenant: Tenant) async throws(ServiceCallError) -> ServiceResponse {
        try await call(.GET, path, tenant: tenant)
    }

    /// Makes the call; `idempotent` defaults to true for every method but POST.
    public func call(_ method: HTTPMethod, _ path: String, tenant: Tenant, body: JSONValue? = nil,
                     idempotent: Bool? = nil, timeout: Duration? = nil) async throws(ServiceCallError) -> ServiceResponse {
        let started = clock.now
        do {
            let response = try await attempt(method, path, tenant: tenant, body: body, idempotent: idempotent ?? (method != .POST),
                                             timeout: timeout ?? self.timeout)
            record("success", since: started)
            return response
        } catch {
            record(Self.outcome(error), since: started)
            throw error
        }
    }

    private func attempt(_ method: HTTPMethod, _ path: String, tenant: Tenant, body: JSONValue?, idempotent: Bool,
                         timeout: Duration) async throws(ServiceCallError) -> ServiceResponse {
        let base: String
        let key: String
        do {
            guard let url = try await tenantConfig.setting(target.urlSetting, tenantID: tenant.id)?.stringValue else {
                throw ServiceCallError.notConfigured(target.urlSetting)
            }
            guard let secret = try await tenantConfig.secret(target.keySecret, tenantID: tenant.id) else {
                throw ServiceCallError.notConfigured(target.keySecret)
            }
            base = url.hasSuffix("/") ? String(url.dropLast()) : url
            key = secret
        } catch let error as ServiceCallError {
            throw error
        } catch {
            throw .unreachable("tenant configuration: \(error)")
        }
        let breaker = breakers.breaker(for: "\(target.rawValue) \(base)")
        var tries = 0
        var last: ServiceCallError?
        while true {
            tries += 1
            // A circuit that opened during this call's retries reports the failure that opened it.
            guard breaker.allow(at: clock.now) else { throw last ?? .circuitOpen }
            let failure: ServiceCallError
            do {
                var request = HTTPClientRequest(url: base + path)
                request.method = method
                request.headers.add(name: "X-API-Key", value: key)
                request.headers.add(name: "Accept", value: "application/json")
                if let body {
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.body = .bytes(ByteBuffer(string: body.jsonText()))
                }
                let response = try await http.execute(request, timeout: TimeAmount.nanoseconds(Int64(timeout.timeInterval * 1e9)))
                let text = String(buffer: try await response.body.collect(upTo: 4 << 20))
                let code = Int(response.status.code)
                if (200..<300).contains(code) {
                    breaker.recordSuccess()
                    return ServiceResponse(status: code, body: text)
                }
                if code < 500 {
                    breaker.recordSuccess()   // the service is up; the call was wrong
                    throw ServiceCallError.refused(code, String(text.prefix(500)))
                }
                failure = .serverError(code)
            } catch let error as ServiceCallError {
                throw error
            } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
                failure = .timedOut
            } catch {
                failure = .unreachable("\(error)")
            }
            breaker.recordFailure(at: clock.now)
            last = failure
            guard idempotent, tries < 3 else {
                logger.warning("call to another Owl service failed", metadata: ["target": .string(target.rawValue), "path": .string(path),
                                                                                 "error": .string("\(failure)")])
                throw failure
            }
            try? await Task.sleep(for: retryPause * (tries == 1 ? 1 : 2))
        }
    }

    static func outcome(_ error: ServiceCallError) -> String {
        switch error {
        case .notConfigured: "not_configured"
        case .circuitOpen: "circuit_open"
        case .timedOut: "timeout"
        case .unreachable: "unreachable"
        case .serverError: "server_error"
        case .refused: "client_error"
        }
    }

    private func record(_ outcome: String, since started: Date) {
        guard let registry else { return }
        registry.makeCounter(name: "owl_service_client_requests_total", labels: [("target", target.rawValue), ("outcome", outcome)]).increment()
        registry.makeDurationHistogram(name: "owl_service_client_request_duration_seconds", labels: [("target", target.rawValue)],
                                       buckets: HTTPMetrics.buckets)
            .recordNanoseconds(Int64(max(clock.now.timeIntervalSince(started), 0) * 1e9))
    }
}
