import Foundation
import Testing
@testable import NightOwl

@Suite struct AlertRulesTests {
    @Test(arguments: [
        ("critical", Severity.critical), ("CRITICAL", .critical), ("p1", .critical), ("sev1", .critical), ("page", .critical),
        ("error", .major), ("high", .major), ("p2", .major), ("major", .major),
        ("warning", .warning), ("warn", .warning), ("medium", .warning), ("p3", .warning),
        ("info", .info), ("low", .info), ("none", .info), ("p4", .info),
        ("something-odd", .warning), ("", .warning),
    ])
    func severityMapping(raw: String, expected: Severity) {
        #expect(SeverityMapping.severity(raw) == expected)
    }

    @Test func unlabelledIsWarning() {
        #expect(SeverityMapping.severity(nil) == .warning)
    }

    @Test func fingerprintIgnoresLabelOrder() {
        let a = AlertFingerprint.of(labels: ["alertname": "X", "pod": "p-1", "namespace": "n"])
        let b = AlertFingerprint.of(labels: ["namespace": "n", "alertname": "X", "pod": "p-1"])
        #expect(a == b)
        #expect(a.count == 32)
        #expect(a != AlertFingerprint.of(labels: ["alertname": "X", "pod": "p-2", "namespace": "n"]))
        #expect(AlertFingerprint.of(labels: ["a": "b=c"]) != AlertFingerprint.of(labels: ["a=b": "c"]))
    }

    @Test(arguments: [
        (["service": "api", "job": "j"], "api"), (["job": "node-exporter"], "node-exporter"), (["app": "web"], "web"),
        (["pod": "p"], nil as String?),
    ])
    func serviceLabel(labels: [String: String], expected: String?) {
        #expect(ServiceLabel.from(labels) == expected)
    }
}
