import Foundation
import NightOwl
import OwlCore
import PostgresNIO

/// The database's share of a single-alert cycle, without HTTP: the call that one group commit of the first phase sends
/// (`public.alerts_refire` for 8 open alerts, prepared, with the same payload's fields), one at a time on one
/// connection. Timed back to back, and paced at one call every 2.5 ms as in the first phase, where the server and
/// PostgreSQL wait between calls: on a virtual machine whose idle cores halt, waking them costs time that a busy loop
/// never sees.
extension IngestBench {
    struct DatabaseFloorCall: PostgresPreparedStatement {
        static let name = "bench_alerts_refire"
        static let sql = "SELECT alert_id, alert_fingerprint FROM public.alerts_refire($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        typealias Row = (UUID, String)

        let schema: String
        let fingerprints: [Int]

        func makeBindings() throws -> PostgresBindings {
            let count = fingerprints.count
            var bindings = PostgresBindings(capacity: 10)
            bindings.append(schema)
            bindings.append(fingerprints.map { "bench-\($0)" })
            bindings.append([Int](repeating: 1, count: count))
            bindings.append([Date](repeating: Date(), count: count))
            bindings.append(fingerprints.map { ["critical", "warning", "info"][$0 % 3] })
            bindings.append(fingerprints.map { "BenchAlert\($0 % 50)" })
            bindings.append(fingerprints.map { "Synthetic alert number \($0)" })
            bindings.append(fingerprints.map {
                #"{"alertname":"BenchAlert\#($0 % 50)","instance":"host-\#($0)","severity":"\#(["critical", "warning", "info"][$0 % 3])","job":"bench"}"#
            })
            bindings.append(fingerprints.map { #"{"summary":"Bench alert \#($0)","description":"Synthetic alert number \#($0)"}"# })
            bindings.append([String](repeating: "", count: count))
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
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
                    let call = DatabaseFloorCall(schema: schema, fingerprints: picked.sorted { "bench-\($0)" < "bench-\($1)" })
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
