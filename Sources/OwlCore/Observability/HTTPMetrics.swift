import Hummingbird
import Prometheus

/// The service's Prometheus registry (owned by the service, not a process global, so tests can build many).
public struct HTTPMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let prefix: String
    private let requestDurationName: String
    static let buckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    public init(prefix: String, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.prefix = prefix
        self.registry = registry
        requestDurationName = "\(prefix)_api_request_duration_seconds"
    }

    public func recordRequest(method: String, path: String, status: Int, duration: Duration) {
        registry.makeDurationHistogram(
            name: requestDurationName,
            labels: [("method", method), ("path", path), ("status", String(status))],
            buckets: Self.buckets
        ).recordNanoseconds(duration.nanoseconds)
    }

    public func counter(_ name: String, labels: [(String, String)] = []) -> Counter {
        registry.makeCounter(name: "\(prefix)_\(name)", labels: labels)
    }

    public func gauge(_ name: String, labels: [(String, String)] = []) -> Gauge {
        registry.makeGauge(name: "\(prefix)_\(name)", labels: labels)
    }

    public func histogram(_ name: String, labels: [(String, String)] = []) -> DurationHistogram {
        registry.makeDurationHistogram(name: "\(prefix)_\(name)", labels: labels, buckets: Self.buckets)
    }

    /// Prometheus text exposition format.
    public func render() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// Times every request, labelled with the route template (`/api/v1/users/{id}`), never the raw path, so that
/// ids do not explode the number of series.
public struct MetricsMiddleware: RouterMiddleware {
    public typealias Context = OwlRequestContext
    let metrics: HTTPMetrics
    public init(metrics: HTTPMetrics) { self.metrics = metrics }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, context, status: response.status.code, start: start)
            return response
        } catch let error as any HTTPResponseError {
            record(request, context, status: error.status.code, start: start)
            throw error
        } catch {
            record(request, context, status: 500, start: start)
            throw error
        }
    }

    private func record(_ request: Request, _ context: Context, status: Int, start: ContinuousClock.Instant) {
        let path = context.endpointPath ?? "unmatched"
        metrics.recordRequest(method: request.method.rawValue, path: path, status: status, duration: ContinuousClock.now - start)
    }
}
