import Foundation
import OwlCore
import Logging
import PostgresNIO

/// The demo tenant's knowledge base: known incidents across the runbook templates' topics. Fingerprints follow
/// `demo-<topic>-<service>`, the pattern the demo alerts use, so that they are enriched on arrival.
enum DemoKnowledgeBase {
    struct Topic {
        var key: String
        var runbook: String
        var severity: Severity
        var category: String
        var title: String
        var symptoms: String
        var patterns: [String]
        var rootCause: String
        var solution: String
        var tags: [String]
    }

    static let topics: [Topic] = [
        Topic(key: "crashloop", runbook: "k8s-pod-crashloop", severity: .critical, category: "kubernetes",
              title: "Pod CrashLoopBackOff in %@ after deploy",
              symptoms: "Pods of %@ restart every few minutes; readiness drops and the service answers 503.",
              patterns: ["CrashLoopBackOff", "Back-off restarting failed container"],
              rootCause: "A release of %@ shipped without the DATABASE_URL environment variable; the process exits at start.",
              solution: "Roll back with kubectl rollout undo, restore the missing variable in the deployment manifest, redeploy.",
              tags: ["kubernetes", "deploy"]),
        Topic(key: "oom", runbook: "k8s-oomkilled", severity: .major, category: "kubernetes",
              title: "%@ containers OOMKilled under peak load",
              symptoms: "Containers of %@ are killed with exit code 137 during traffic peaks; latency spikes before each restart.",
              patterns: ["OOMKilled", "exit code 137"],
              rootCause: "The memory limit of %@ was sized before the catalogue doubled; the heap outgrew the limit.",
              solution: "Raise the memory limit by 50 percent, cap the heap at 75 percent of the limit, watch working set for a day.",
              tags: ["kubernetes", "memory"]),
        Topic(key: "cert", runbook: "k8s-certificate-expiry", severity: .critical, category: "tls",
              title: "TLS certificate for %@ expired",
              symptoms: "Clients of %@ fail with x509: certificate has expired; browsers show a certificate warning.",
              patterns: ["x509: certificate has expired or is not yet valid", "CertificateExpiringSoon"],
              rootCause: "The ACME HTTP-01 challenge for %@ failed after an ingress path change, so cert-manager never renewed.",
              solution: "Fix the ingress path for /.well-known/acme-challenge, renew with cmctl renew, restart the ingress controller.",
              tags: ["tls", "cert-manager"]),
        Topic(key: "etcd", runbook: "k8s-etcd", severity: .critical, category: "control-plane",
              title: "etcd leader changes slow the API server (%@)",
              symptoms: "kubectl times out; %@ deployments stall; etcd logs apply request took too long.",
              patterns: ["etcdserver: request timed out", "etcdHighNumberOfLeaderChanges"],
              rootCause: "The control-plane disks were shared with a backup job; fsync latency above 100 ms cost the leader its heartbeats.",
              solution: "Moved etcd to dedicated SSDs and rescheduled the backup job; defragmented each member in turn.",
              tags: ["etcd", "control-plane"]),
        Topic(key: "nodenotready", runbook: "k8s-node-not-ready", severity: .major, category: "kubernetes",
              title: "Node NotReady takes %@ pods down",
              symptoms: "A node hosting %@ went NotReady; pods were evicted after five minutes and capacity dropped.",
              patterns: ["NodeNotReady", "Kubelet stopped posting node status"],
              rootCause: "The node's root disk filled with container logs; kubelet reported DiskPressure and then stopped.",
              solution: "Drained the node, pruned images with crictl rmi --prune, enabled log rotation, uncordoned.",
              tags: ["kubernetes", "node"]),
        Topic(key: "pvc", runbook: "k8s-pvc-pending", severity: .warning, category: "storage",
              title: "PVC for %@ stuck in Pending",
              symptoms: "The StatefulSet of %@ does not start; its PersistentVolumeClaim stays Pending.",
              patterns: ["pod has unbound immediate PersistentVolumeClaims", "waiting for a volume to be created"],
              rootCause: "The claim named the storage class fast-ssd, which was renamed to ssd during the cluster upgrade.",
              solution: "Recreated the claim with the ssd storage class and restored data from the last snapshot.",
              tags: ["storage", "pvc"]),
        Topic(key: "dns", runbook: "k8s-dns-failure", severity: .critical, category: "network",
              title: "DNS resolution failures break %@",
              symptoms: "%@ cannot resolve service names; requests fail with no such host and five-second timeouts.",
              patterns: ["no such host", "i/o timeout 10.96.0.10:53", "SERVFAIL"],
              rootCause: "CoreDNS was CPU-throttled under a burst of lookups amplified by ndots:5.",
              solution: "Scaled CoreDNS to four replicas, raised its CPU limit and enabled NodeLocal DNSCache.",
              tags: ["dns", "coredns"]),
    ]

    static let services = ["payments-api", "checkout-web", "auth-service", "search-indexer", "notification-worker"]

    /// Seeds sample services and at least 30 knowledge-base entries, each linked to its topic's runbook.
    @Sendable static func seed(_ connection: PostgresConnection, _ logger: Logger) async throws {
        try await SampleServices.seed(connection, logger)
        try await RunbookTemplate.install(connection, logger)
        // Demo data is laid around the moment it is made; seeding is a command, so it reads the system clock.
        try await DemoRosters.seed(connection, logger, now: WallClock.system.now)
        let runbooks = RunbookStore(logger: logger)
        let incidents = IncidentStore(logger: logger)
        for topic in topics {
            let runbookID = try await runbooks.template(key: topic.runbook, on: connection)?.id
            for (index, service) in services.enumerated() {
                var input = IncidentInput()
                input.title = String(format: topic.title, service)
                input.severity = topic.severity
                input.category = topic.category
                input.fingerprints = ["demo-\(topic.key)-\(service)"]
                input.services = [service]
                input.clusters = [index % 2 == 0 ? "prod-eu-1" : "prod-us-1"]
                input.namespaces = [service.components(separatedBy: "-").first ?? service]
                input.tags = topic.tags
                input.symptoms = String(format: topic.symptoms, service)
                input.errorPatterns = topic.patterns
                input.rootCause = String(format: topic.rootCause, service)
                input.solution = topic.solution
                input.runbookID = runbookID
                let created = try await incidents.create(input, by: "seed-demo", on: connection)
                try await connection.query(
                    "UPDATE incidents SET resolution_count = \(index + 1), last_seen_at = now() - \(index) * interval '3 days' WHERE id = \(created.id)",
                    logger: logger)
            }
        }
    }
}
