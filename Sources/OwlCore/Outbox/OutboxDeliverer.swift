import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Delivers the stored HTTP calls of a tenant's outbox (the `http` handler): each message on its own, sent with its
/// credentials added at that moment and recorded attempt by attempt. Sandbox messages are recorded as sandboxed and
/// never sent.
public struct OutboxDeliverer: OutboxHandler {
    let database: Database
    let tenantConfig: TenantConfigService
    let http: HTTPClient
    let clock: WallClock
    let logger: Logger
    public var policy: RetryPolicy
    public var lease: TimeInterval = 120
    public var timeout: TimeAmount = .seconds(10)
    /// A number in 0..<1 for the jitter of each retry's delay.
    public var random: @Sendable () -> Double = { Double.random(in: 0..<1) }
    /// How long one drain may go on before it leaves the rest to the next pass.
    public var budget: TimeInterval = 20
    let metrics: OutboxMetrics?

    public var name: String { "http" }
    /// Few enough that all are sent, at `timeout` each, well within the lease.
    public var claimLimit: Int { 5 }
    public var deliveryTimeout: TimeInterval { Double(timeout.nanoseconds) / 1e9 }

    public init(database: Database, tenantConfig: TenantConfigService, http: HTTPClient, clock: WallClock, logger: Logger,
                policy: RetryPolicy = RetryPolicy(maxAttempts: 8), metrics: HTTPMetrics? = nil) {
        self.database = database
        self.tenantConfig = tenantConfig
        self.http = http
        self.clock = clock
        self.logger = logger
        self.policy = policy
        self.metrics = metrics.map(OutboxMetrics.init)
    }

    public init(_ environment: WorkerEnvironment, policy: RetryPolicy = RetryPolicy(maxAttempts: 8)) {
        self.init(database: environment.database, tenantConfig: environment.tenantConfig, http: environment.http, clock: environment.clock,
                  logger: environment.logger, policy: policy, metrics: environment.metrics)
    }

    /// The worker's job: every second, and at once when a message is queued.
    public func job(every interval: Duration = .seconds(1)) -> TenantJob {
        .periodic("outbox", every: interval, wakeOn: [OutboxStore.channel]) { tenant, _ in _ = try await drain(tenant) }
    }

    /// Delivers the tenant's due calls (within `budget`); returns how many attempts it made.
    @discardableResult
    public func drain(_ tenant: Tenant) async throws -> Int {
        let clock = clock
        return try await OutboxRunner(database: database, handler: self, logger: logger, budget: budget, now: { clock.now }).drain(tenant)
    }

    public func deliver(_ batch: OutboxBatch, tenant: Tenant) async -> OutboxDelivery {
        guard let message = batch.items.first?.request else { return OutboxDelivery(.permanent("the message has no request")) }
        do {
            let (outcome, code) = try await send(message, tenant: tenant)
            return OutboxDelivery(outcome, statusCode: code)
        } catch {
            return OutboxDelivery(HTTPDelivery.outcome(of: error))
        }
    }

    public func recorded(_ batch: OutboxBatch, as status: OutboxStatus, tenant: Tenant) {
        metrics?.settled(provider: batch.provider, status: status.rawValue)
    }

    func send(_ message: OutboundMessage, tenant: Tenant) async throws -> (DeliveryOutcome, Int?) {
        var request = HTTPClientRequest(url: message.url)
        request.method = HTTPMethod(rawValue: message.method.rawValue)
        for (name, value) in message.headers.sorted(by: { $0.key < $1.key }) { request.headers.add(name: name, value: value) }
        if let auth = message.auth {
            guard let secret = try await tenantConfig.secret(auth.secretName, tenantID: tenant.id) else {
                return (.permanent("\(auth.secretName) is not configured"), nil)
            }
            switch auth {
            case .owlSignature: request.headers.add(contentsOf: OwlSignature.headers(body: message.body, secret: secret, now: clock.now))
            case .header(let name, _, let prefix): request.headers.replaceOrAdd(name: name, value: prefix + secret)
            }
        }
        request.headers.replaceOrAdd(name: "Idempotency-Key", value: message.key)
        if !message.body.isEmpty { request.body = .bytes(ByteBuffer(string: message.body)) }
        let response = try await http.execute(request, timeout: timeout)
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        let code = Int(response.status.code)
        let failed = HTTPDelivery.classify(response.status, retryAfter: response.headers.first(name: "Retry-After"), body: text, now: clock.now)
        return (failed ?? .delivered(reference: nil), code)
    }
}

/// `<service>_outbox_deliveries_total{provider,status}`: each attempt by the status it left the message in.
struct OutboxMetrics: Sendable {
    let metrics: HTTPMetrics

    init(_ metrics: HTTPMetrics) { self.metrics = metrics }

    func settled(provider: String, status: String) {
        metrics.counter("outbox_deliveries_total", labels: [("provider", provider), ("status", status)]).increment()
    }
}
