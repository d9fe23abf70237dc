import Foundation
import Logging
import PostgresNIO

/// A runbook shipped with NightOwl; its Markdown lives in `Runbooks/Templates/<key>.md` (copied to the bundle as `Templates/`).
struct RunbookTemplate: Sendable {
    var key: String
    var title: String
    var category: String
    var tags: [String]
    var content: String

    static let catalogue: [(key: String, title: String, tags: [String])] = [
        ("k8s-pod-crashloop", "Pod in CrashLoopBackOff", ["kubernetes", "pod", "crashloop"]),
        ("k8s-oomkilled", "Container OOMKilled", ["kubernetes", "memory", "oom"]),
        ("k8s-certificate-expiry", "Certificate expiring or expired", ["kubernetes", "tls", "certificate"]),
        ("k8s-etcd", "etcd leader election and quorum problems", ["kubernetes", "etcd", "control-plane"]),
        ("k8s-node-not-ready", "Node NotReady", ["kubernetes", "node"]),
        ("k8s-pvc-pending", "PersistentVolumeClaim stuck in Pending", ["kubernetes", "storage", "pvc"]),
        ("k8s-dns-failure", "Cluster DNS failures", ["kubernetes", "dns", "coredns"]),
    ]

    static var all: [RunbookTemplate] {
        catalogue.compactMap { entry in
            guard let url = Bundle.module.url(forResource: "Templates/\(entry.key)", withExtension: "md"),
                  let content = try? String(contentsOf: url, encoding: .utf8) else { return nil }
            return RunbookTemplate(key: entry.key, title: entry.title, category: "kubernetes", tags: entry.tags, content: content)
        }
    }

    /// Keeps every tenant's copy of the templates current (runs after the tenant's migrations).
    @Sendable static func install(_ connection: PostgresConnection, _ logger: Logger) async throws {
        let store = RunbookStore(logger: logger)
        for template in all { try await store.upsertTemplate(template, on: connection) }
    }
}
