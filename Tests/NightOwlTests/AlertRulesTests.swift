import Foundation
import OwlCore
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

@Suite struct WebhookResponseTextTests {
    /// The hand-written webhook answer is byte for byte what JSONEncoder makes of the same value.
    @Test(arguments: [
        [],
        [AlertOutcome(index: 0, result: .created, alertID: UUID(), fingerprint: "abc")],
        [AlertOutcome(index: 1, result: .rejected, error: "labels must be an object with \"string\" values\n\u{1}"),
         AlertOutcome(index: 0, result: .deduplicated, alertID: UUID(), fingerprint: "fp/with\\slash ü 🚨")],
        [AlertOutcome(index: 2, result: .ignored, fingerprint: "pd-key"), AlertOutcome(index: 3, result: .resolved, alertID: UUID())],
        [AlertOutcome(index: 12, result: .acknowledged, alertID: UUID(), fingerprint: "f", error: "every member")],
    ])
    func sameTextAsTheEncoder(alerts: [AlertOutcome]) throws {
        let answer = AlertRoutes.WebhookResponse(received: alerts.count + 1, stored: alerts.count, rejected: 1, alerts: alerts)
        let encoded = String(decoding: try JSON.encoder.encode(answer), as: UTF8.self)
        #expect(answer.jsonDocument() == encoded)
    }

    @Test(arguments: [("", ""), ("a", "a"), (" a ", "a"), ("\n\ta b\r\n", "a b"), ("\u{00A0}x\u{2003}", "x"), ("   ", "")])
    func trimmed(raw: String, expected: String) {
        #expect(raw.trimmed == expected)
        #expect(raw.trimmed == raw.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The byte-length shortcut gives what counting characters gives, also where characters are several bytes
    /// (é as one scalar or two, a flag of two scalars, an emoji with a modifier).
    @Test(arguments: ["", "abc", "abcd", "ééé", "e\u{301}e\u{301}e\u{301}", "🇫🇷🇫🇷🇫🇷", "👍🏽👍🏽👍🏽👍🏽", "ab🚨", "a\r\nb"])
    func limitsCountCharacters(text: String) {
        for limit in 0...5 {
            #expect(text.limited(to: limit) == String(text.prefix(limit)), "\(text) to \(limit)")
            #expect(text.hasAtMost(limit) == (text.count <= limit), "\(text) at most \(limit)")
        }
    }
}

@Suite struct GroupCommitPolicyTests {
    @Test(arguments: [
        // running, waiting, oldest waited (µs), decision; no batch answered yet
        (0, 0, 0, GroupCommitPolicy.Decision.none),
        (0, 1, 0, .start),
        (0, 5, 100, .start),
        (1, 1, 0, .wait(.milliseconds(2))),
        (1, 3, 500, .wait(.microseconds(1500))),
        (1, 7, 1999, .wait(.microseconds(1))),
        (1, 8, 0, .start),
        (1, 2, 2000, .start),
        (1, 1, 5000, .start),
        (2, 50, 10_000, .none),
    ])
    func decisions(running: Int, waiting: Int, waitedMicroseconds: Int, expected: GroupCommitPolicy.Decision) {
        let decision = GroupCommitPolicy().decide(running: running, waiting: waiting, oldestWaited: .microseconds(waitedMicroseconds))
        #expect(decision == expected)
    }

    @Test(arguments: [
        // waiting, oldest waited (µs), cohort, since the last answer (µs), decision, for an idle ingestor
        (1, 0, 1, 10, GroupCommitPolicy.Decision.start),            // a lone sender never waits
        (3, 0, 8, 200, .wait(.microseconds(1300))),                 // the cohort is coming back
        (8, 0, 8, 200, .start),                                     // all back
        (9, 0, 8, 200, .start),
        (3, 0, 8, 1500, .start),                                    // lingered long enough
        (3, 1900, 8, 200, .wait(.microseconds(100))),               // the oldest's own limit comes first
        (3, 2000, 8, 200, .start),
        (1, 0, 4, 100_000, .start),                                 // an old answer does not hold anyone
    ])
    func lingerForTheCohort(waiting: Int, waitedMicroseconds: Int, cohort: Int, sinceAnswerMicroseconds: Int,
                            expected: GroupCommitPolicy.Decision) {
        let decision = GroupCommitPolicy().decide(running: 0, waiting: waiting, oldestWaited: .microseconds(waitedMicroseconds),
                                                  cohort: cohort, sinceAnswer: .microseconds(sinceAnswerMicroseconds))
        #expect(decision == expected)
    }
}
