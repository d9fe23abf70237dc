import Foundation
import NightOwl
import OwlCore
import PostgresNIO

/// The database's share of a single-alert cycle, without HTTP: the call that one group commit of the first phase sends
/// (`AlertRefireStatement` for 8 open alerts, prepared, with the payload's own fields), one at a time on one
/// connection. Timed back to back, and paced at one call every 2.5 ms as in the first phase, where the server and
/// PostgreSQL wait between calls: on a virtual machine whose idle cores halt, waking them costs time that a busy loop
/// never sees.
extension IngestBench {
    /// The call for these open alerts of the benchmark, with the fields its payloads carry.
    static func refireCall(schema: String, fingerprints: [Int]) -> AlertRefireStatement {
        var columns = AlertRefireStatement.Columns()
        for n in fingerprints {
            let severity = ["critical", "warning", "info"][n % 3]
            columns.fingerprints.append("bench-\(n)")
            columns.counts.append(1)
            columns.lastFired.append(WallClock.system.now)
            columns.severities.append(severity)
            columns.titles.append("Bench alert \(n)")
            columns.descriptions.append("Synthetic alert number \(n)")
            columns.labels.append(#"{"alertname":"BenchAlert\#(n % 50)","instance":"host-\#(n)","severity":"\#(severity)","job":"bench"}"#)
            columns.annotations.append(#"{"summary":"Bench alert \#(n)","description":"Synthetic alert number \#(n)"}"#)
            columns.agents.append("")
        }
        return AlertRefireStatement(schema: schema, columns: columns)
    }

    /// Two report lines: the call back to back, then paced (2,000 calls each, fewer for a smaller `--alerts`). Needs
    /// the first phase's alerts open.
    func databaseFloor(_ database: Database, schema: String) async throws -> [String] {
        let calls = min(2_000, alerts)
        let open = min(alerts, fingerprints)
        var generator = SystemRandomNumberGenerator()
        var lines: [String] = []
        for pace in [Duration.zero, .microseconds(2_500)] {
            let clock = ContinuousClock()
            var latencies: [Duration] = []
            latencies.reserveCapacity(calls)
            let start = clock.now
            try await database.withConnection { connection in
                for _ in 0..<calls {
                    // 8 distinct open alerts in fingerprint order, as the ingestor sends them.
                    var picked = Set<Int>()
                    while picked.count < min(8, open) { picked.insert(Int.random(in: 0..<open, using: &generator)) }
                    let call = Self.refireCall(schema: schema, fingerprints: picked.sorted { "bench-\($0)" < "bench-\($1)" })
                    let began = clock.now
                    for try await _ in try await connection.execute(call, logger: database.logger) {}
                    latencies.append(clock.now - began)
                    if pace > .zero { try await Task.sleep(until: began + pace, clock: clock) }
                }
            }
            let seconds = Double((clock.now - start) / .microseconds(1)) / 1e6
            latencies.sort()
            lines.append(String(format: "%d re-fire calls of 8 alerts on one connection, %@: %.0f calls/s, p50 %.2f ms, p99 %.2f ms per call",
                                calls, pace == .zero ? "back to back" : "one every 2.5 ms", Double(calls) / seconds,
                                BenchEnvironment.percentile(latencies, 0.5), BenchEnvironment.percentile(latencies, 0.99)))
        }
        return lines
    }
}
