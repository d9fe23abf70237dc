import Crypto
import OwlCore
import Foundation

/// Maps the severity words monitoring tools use to NightOwl's four levels. Unknown words become `warning`: an alert
/// nobody classified should be seen, not paged at night and not dropped.
public enum SeverityMapping {
    static let table: [String: Severity] = [
        "critical": .critical, "crit": .critical, "emergency": .critical, "emerg": .critical, "fatal": .critical,
        "disaster": .critical, "page": .critical, "p1": .critical, "sev1": .critical, "sev-1": .critical, "s1": .critical,
        "error": .major, "err": .major, "high": .major, "major": .major, "p2": .major, "sev2": .major, "sev-2": .major, "s2": .major,
        "warning": .warning, "warn": .warning, "medium": .warning, "moderate": .warning, "average": .warning, "minor": .warning,
        "p3": .warning, "sev3": .warning, "sev-3": .warning, "s3": .warning,
        "info": .info, "informational": .info, "information": .info, "low": .info, "notice": .info, "debug": .info,
        "none": .info, "ok": .info, "p4": .info, "p5": .info, "sev4": .info, "sev5": .info, "s4": .info,
    ]

    public static func severity(_ raw: String?) -> Severity {
        guard let raw else { return .warning }
        return table[raw.trimmed.lowercased()] ?? .warning
    }
}

/// Fingerprints identify "the same alert" for deduplication.
public enum AlertFingerprint {
    /// A stable hash of the labels: sorted by name, so the order a sender uses never matters; every name and value is
    /// length-prefixed, so no two different label sets share an encoding.
    public static func of(labels: [String: String]) -> String {
        let canonical = labels.sorted { $0.key < $1.key }
            .map { "\($0.key.utf8.count):\($0.key)\($0.value.utf8.count):\($0.value)" }.joined()
        return APIKeyMaterial.hex(SHA256.hash(data: Data(canonical.utf8)).prefix(16))
    }
}

/// Where an alert's service comes from: the `service`, `job` or `app` label, in that order.
public enum ServiceLabel {
    public static func from(_ labels: [String: String]) -> String? {
        for key in ["service", "job", "app", "app_kubernetes_io_name", "app.kubernetes.io/name"] {
            if let value = labels[key]?.trimmed, !value.isEmpty { return value }
        }
        return nil
    }
}
