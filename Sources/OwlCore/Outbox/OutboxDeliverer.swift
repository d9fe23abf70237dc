import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Delivers a tenant's outbox: claims due messages with `FOR UPDATE SKIP LOCKED` and a lease (two workers never send
/// the same message; a worker that dies mid-send leaves a lease that runs out, and the message goes again), sends each
/// over HTTP with its credentials added at that moment, and records the attempt. Sandbox messages are recorded as
/// sandboxed and never sent.
public struct OutboxDeliverer: Sendable {
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
    let metrics: OutboxMetrics?
    var store: OutboxStore { OutboxStore(logger: logger) }

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

    /// How many messages one claim takes: few enough that all are sent, at `timeout` each, well within the lease.
    static let batch = 5
    /// How long one drain may go on before it leaves the rest to the next pass, so that a provider that times out does
    /// not hold up the worker's other jobs.
    public var budget: TimeInterval = 20

    /// Delivers the tenant's due messages (within `budget`); returns how many attempts it made.
    @discardableResult
    public func drain(_ tenant: Tenant) async throws -> Int {
        var total = 0
        let started = clock.now
        while clock.now.timeIntervalSince(started) < budget {
            let claimedAt = clock.now
            let claimed = try await database.withTenant(tenant.slug, actor: "outbox") { connection in
                try await store.claim(at: claimedAt, lease: lease, limit: Self.batch, on: connection)
            }
            if claimed.isEmpty { return total }
            for message in claimed {
                // A lease about to run out may already be another worker's: leave the message to it.
                if clock.now.timeIntervalSince(claimedAt) > lease - Double(timeout.nanoseconds) / 1e9 { break }
                let result = await attempt(message, tenant: tenant)
                let status = try await database.withTenant(tenant.slug, actor: "outbox") { connection in
                    try await store.settle(message, result, at: clock.now, on: connection)
                }
                metrics?.settled(provider: message.provider, status: status)
                if status == "failed" {
                    logger.warning("outbound message failed for good", metadata: [
                        "tenant": .string(tenant.slug.value), "provider": .string(message.provider), "id": .string(message.id.uuidString.lowercased()),
                    ])
                }
                total += 1
            }
        }
        return total
    }

    func attempt(_ claimed: OutboxStore.Claimed, tenant: Tenant) async -> AttemptResult {
        guard claimed.mode == .live else { return AttemptResult(outcome: .delivered(reference: nil), statusCode: nil, durationMs: 0, retryIn: nil) }
        let started = clock.now
        var statusCode: Int?
        let outcome: DeliveryOutcome
        do {
            (outcome, statusCode) = try await send(claimed.message, tenant: tenant)
        } catch {
            outcome = HTTPDelivery.outcome(of: error)
        }
        let duration = Int(max(clock.now.timeIntervalSince(started), 0) * 1000)
        var retryIn: TimeInterval?
        if case .retryable(_, let retryAfter) = outcome, !policy.givesUp(afterAttempt: claimed.attempt) {
            retryIn = policy.delay(afterAttempt: claimed.attempt, retryAfter: retryAfter, unit: random())
        }
        return AttemptResult(outcome: outcome, statusCode: statusCode, durationMs: duration, retryIn: retryIn)
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
