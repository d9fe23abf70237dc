import Foundation
import NIOConcurrencyHelpers
import OwlCore
import Prometheus

/// What the worker tells Prometheus, so that NightOwl itself can be alerted on (`deploy/prometheus/nightowl-rules.yml`):
/// escalations, every delivery's outcome and messages left waiting (each job's runs are counted by the shared
/// `TenantWorker`). Every series is made here at start, so that a rule over it has data (zeros) before the first event.
struct WorkerMetrics: Sendable {
    /// A row's outcome: `sent`, `sandboxed`, `retrying` (will be tried again), `failed` (for good).
    static let outcomes = ["sent", "sandboxed", "retrying", "failed"]
    static let providers = ["slack", "mattermost", "twilio", "webhook"]
    /// Slack messages sent (or recorded in sandbox mode) by kind: a new message about alerts, an edit of one, a note in
    /// its thread, any other message (a handoff notice, an answer to a command).
    enum SlackMessage: String, CaseIterable, Sendable { case alert, update, thread, notice }

    private let metrics: HTTPMetrics
    private let notifications: [String: [String: Counter]]
    private let slackMessages: [SlackMessage: Counter]
    /// Messages due for more than a minute and not being sent, and how long the oldest of them has waited, over
    /// every tenant (each tenant's last reading is kept, and the gauges show their sum and maximum).
    private let overdue: Gauge
    private let oldestOverdue: Gauge
    private let overdueByTenant = NIOLockedValueBox<[String: (count: Int, oldest: TimeInterval)]>([:])

    init(_ metrics: HTTPMetrics) {
        self.metrics = metrics
        var notifications: [String: [String: Counter]] = [:]
        for provider in Self.providers {
            for outcome in Self.outcomes {
                notifications[provider, default: [:]][outcome] = metrics.counter("notifications_total", labels: [("provider", provider), ("outcome", outcome)])
            }
        }
        self.notifications = notifications
        slackMessages = Dictionary(uniqueKeysWithValues: SlackMessage.allCases.map {
            ($0, metrics.counter("slack_notifications_total", labels: [("type", $0.rawValue)]))
        })
        overdue = metrics.gauge("notifications_overdue")
        oldestOverdue = metrics.gauge("notification_oldest_overdue_seconds")
        // Tier 1 always exists; further tiers appear as they are paged.
        _ = metrics.counter("alerts_escalated_total", labels: [("tier", "1")])
    }

    /// A fresh registry: for tests and tools that do not serve metrics.
    static func unserved() -> WorkerMetrics { WorkerMetrics(HTTPMetrics(prefix: "nightowl")) }

    func escalated(tier: Int) { metrics.counter("alerts_escalated_total", labels: [("tier", String(tier))]).increment() }

    /// A delivery's rows, as `outcome` was recorded for them; Slack messages that went out also by kind.
    func settled(_ bundle: OutboundBundle, as outcome: String) {
        let count = Int64(bundle.ids.count)
        notifications[bundle.method.provider]?[outcome]?.increment(by: count)
        guard bundle.method.provider == "slack", outcome == "sent" || outcome == "sandboxed" else { return }
        let kind: SlackMessage = bundle.payloads.contains(where: OutboundPayload.isSlackFollowUp) ? .update
            : bundle.payloads.contains(where: OutboundPayload.isSlackThreadNote) ? .thread : bundle.alertIDs.isEmpty ? .notice : .alert
        slackMessages[kind]?.increment(by: count)
    }

    /// One tenant's overdue messages as the worker last counted them.
    func overdue(_ tenant: TenantSlug, count: Int, oldest: TimeInterval) {
        let all = overdueByTenant.withLockedValue { readings in
            readings[tenant.value] = (count, oldest)
            return Array(readings.values)
        }
        overdue.set(Double(all.reduce(0) { $0 + $1.count }))
        oldestOverdue.set(all.map(\.oldest).max() ?? 0)
    }
}
