import Foundation
import Hummingbird
import Logging
import Synchronization

/// When a worker last finished a pass of its loop. A worker whose loop hangs (a query that never returns, a provider
/// that never answers) still runs as a process; only this tells it apart from a healthy one.
public final class WorkerHeartbeat: Sendable {
    private let last: Mutex<Date?>
    private let started: Date

    public init(started: Date) {
        self.started = started
        last = Mutex(nil)
    }

    public func beat(at instant: Date) { last.withLock { $0 = instant } }

    /// Seconds since the last pass (since start before the first one).
    public func age(at instant: Date) -> TimeInterval {
        instant.timeIntervalSince(last.withLock { $0 } ?? started)
    }
}

/// `--mode worker` has no API, so it serves its own `/metrics` (for Prometheus) and `/healthz` (for the
/// orchestrator's liveness probe: 503 once the loop has not finished a pass for `staleAfter`).
public enum WorkerStatusServer {
    public static func router(metrics: HTTPMetrics, heartbeat: WorkerHeartbeat, staleAfter: TimeInterval,
                              clock: WallClock) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/healthz") { _, _ -> Response in
            let age = heartbeat.age(at: clock.now)
            let stale = age > staleAfter
            let body = JSONValue.object(["status": .string(stale ? "stalled" : "ok"), "last_pass_seconds_ago": .number(age.rounded(.down))])
            return Response(status: stale ? .serviceUnavailable : .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: body.jsonText())))
        }
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: metrics.render())))
        }
        return router
    }

    public static func application(config: ServiceConfig, metrics: HTTPMetrics, heartbeat: WorkerHeartbeat,
                                   logger: Logger, clock: WallClock) -> some ApplicationProtocol {
        Application(router: router(metrics: metrics, heartbeat: heartbeat, staleAfter: staleAfter(pollSeconds: config.workerPollSeconds), clock: clock),
                    configuration: .init(address: .hostname(config.metricsHost, port: config.metricsPort), serverName: "\(config.serviceName)-worker"),
                    logger: logger)
    }

    /// A pass runs at least once a poll, and a slow provider can hold one up for a while: four polls, and never
    /// less than two minutes.
    public static func staleAfter(pollSeconds: Int) -> TimeInterval { max(120, 4 * TimeInterval(pollSeconds)) }
}
