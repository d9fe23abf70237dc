import Foundation
import Hummingbird
import HummingbirdTesting
import OwlCore
import Testing

/// `--mode worker`'s status server: `/healthz` turns 503 when the worker's loop stops finishing passes, so that the
/// orchestrator restarts a hung worker; `/metrics` serves the worker's registry.
@Suite struct WorkerStatusTests {
    @Test(arguments: [
        (nil as Double?, 10.0, 200, "ok"),       // just started, no pass yet
        (nil, 200, 503, "stalled"),              // started long ago and never finished a pass
        (195, 200, 200, "ok"),                   // a pass 5 s ago
        (0, 119, 200, "ok"),
        (0, 121, 503, "stalled"),                // no pass for longer than the limit
    ])
    func healthFollowsTheLoop(lastPass: Double?, now: Double, status: Int, word: String) async throws {
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        let heartbeat = WorkerHeartbeat(started: start)
        if let lastPass { heartbeat.beat(at: start.addingTimeInterval(lastPass)) }
        let metrics = HTTPMetrics(prefix: "nightowl")
        metrics.counter("job_runs_total", labels: [("job", "delivery"), ("outcome", "failure")]).increment()
        let router = WorkerStatusServer.router(metrics: metrics, heartbeat: heartbeat, staleAfter: 120,
                                               clock: WallClock { start.addingTimeInterval(now) })
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(Int(response.status.code) == status)
                let body = JSONValue.parse(String(buffer: response.body))
                #expect(body?.objectValue?["status"]?.stringValue == word)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains(#"nightowl_job_runs_total{job="delivery",outcome="failure"} 1"#))
            }
        }
    }

    @Test(arguments: [(1, 120.0), (30, 120), (60, 240)])
    func aPassMayTakeFourPollsAndNeverLessThanTwoMinutes(poll: Int, limit: Double) {
        #expect(WorkerStatusServer.staleAfter(pollSeconds: poll) == limit)
    }
}
