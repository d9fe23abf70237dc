import Foundation
import Logging
import PostgresNIO

/// Generated knowledge-base entries for the search benchmark: realistic vocabulary, fixed seed (the same rows every run).
public enum SearchBenchmarkData {
    /// The queries the benchmark cycles through: fragments, phrases, exclusions and misses.
    public static let queries = [
        "crashloop", "oom", "cert expir", "dns timeout", "disk full", "kafka lag", "\"connection refused\"",
        "etcd -leader", "node notready", "pvc pending", "payments 503", "latency spike", "memory leak", "tls handshake",
        "zzzz no match",
    ]

    /// Operations vocabulary; each entry draws about twenty terms from it, so a term appears in a few percent of entries.
    static let vocabulary: [String] = """
        pod crashloopbackoff oomkilled certificate expiry dns timeout disk full kafka consumer lag connection refused etcd leader
        election node notready pvc pending latency spike memory leak tls handshake queue backlog replica failover deadlock
        throttling quota exceeded ingress gateway payments checkout search auth database cache eviction rollout stuck probe
        failing webhook retry storm cpu saturation thread pool exhaustion garbage collection pause heap dump socket reset
        upstream downstream circuit breaker open rate limit burst redis postgres mysql mongodb elasticsearch shard unassigned
        index corruption wal archive replication slot bloat vacuum autovacuum lock contention long transaction migration
        schema drift config map secret rotation vault token expired oauth jwt signature invalid clock skew ntp drift
        load balancer health check flapping keepalive idle connection pool saturation nginx envoy istio sidecar injection
        mtls policy denied network partition packet loss bgp route leak firewall rule conntrack table full iptables
        kube proxy coredns nodelocal cache miss hit ratio cdn purge origin shield s3 bucket permission denied iam role
        assume failure terraform drift helm release failed chart values image pull backoff registry unavailable quota
        cronjob missed schedule batch job backoff limit evicted preempted priority class scheduler unschedulable taint
        toleration affinity anti zone outage region failover dr drill backup restore snapshot corrupted checksum mismatch
        disk pressure inode exhaustion log rotation journald fluentd buffer overflow prometheus scrape failing alertmanager
        silence grafana dashboard slo burn rate error budget p99 regression deploy canary rollback feature flag toggled
        """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)

    /// Inserts `count` entries in one statement (the search-vector trigger fills the index as they arrive).
    public static func insert(count: Int, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT setseed(0.42)", logger: logger)
        try await connection.query("""
            WITH words AS (SELECT \(vocabulary)::text[] AS w, cardinality(\(vocabulary)::text[]) AS n)
            INSERT INTO incidents (title, severity, category, services, tags, symptoms, error_patterns, root_cause, solution, fingerprints)
            SELECT
                initcap(w[1 + floor(random() * n)::int]) || ' ' || w[1 + floor(random() * n)::int] || ' in ' || w[1 + floor(random() * n)::int] || ' #' || g,
                (ARRAY['critical','major','warning','info'])[1 + (g % 4)],
                (ARRAY['kubernetes','network','storage','database','application'])[1 + (g % 5)],
                ARRAY['service-' || (g % 400)],
                ARRAY[w[1 + floor(random() * n)::int]],
                'Users see ' || w[1 + floor(random() * n)::int] || ' and ' || w[1 + floor(random() * n)::int] || ' errors while '
                    || w[1 + floor(random() * n)::int] || ' ' || w[1 + floor(random() * n)::int] || ' grows.',
                ARRAY[w[1 + floor(random() * n)::int] || ': ' || w[1 + floor(random() * n)::int]],
                'The ' || w[1 + floor(random() * n)::int] || ' of ' || w[1 + floor(random() * n)::int] || ' caused '
                    || w[1 + floor(random() * n)::int] || ' on host-' || (g % 997) || '.',
                'Restart ' || w[1 + floor(random() * n)::int] || ', then scale ' || w[1 + floor(random() * n)::int] || ' and watch '
                    || w[1 + floor(random() * n)::int] || '.',
                ARRAY['bench-' || g]
            FROM words, generate_series(1, \(count)) AS g
            """, logger: logger)
        try await connection.query("ANALYZE incidents", logger: logger)
    }
}
