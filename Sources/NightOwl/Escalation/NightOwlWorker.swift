import AsyncHTTPClient
import Foundation
import Logging
import OwlCore

/// `--mode worker`: NightOwl's jobs on the shared tenant worker, in this order within a pass. Missed heartbeats come
/// first, so that their alerts are escalated in the same pass; the escalation engine runs every poll, at once when an
/// alert is created, acknowledged or resolved (`NOTIFY`), and when a tenant's earliest pending tier falls due; the
/// outbox is delivered every second.
public enum NightOwlWorker {
    @Sendable static func jobs(_ environment: WorkerEnvironment) -> [TenantJob] {
        let metrics = WorkerMetrics(environment.metrics)
        let now: @Sendable () -> Date = { environment.clock.now }
        let poll = Duration.seconds(environment.config.workerPollSeconds)
        var engine = EscalationEngine(database: environment.database, tenantConfig: environment.tenantConfig, logger: environment.logger,
                                      publicURL: environment.config.publicURL, defaultModes: environment.config.providerModes, now: now)
        engine.metrics = metrics
        var delivery = NotificationDispatcher(database: environment.database, logger: environment.logger,
                                                sender: LiveNotificationSender(http: environment.http, config: environment.tenantConfig,
                                                                               publicURL: environment.config.publicURL, clock: environment.clock),
                                                now: now)
        delivery.metrics = metrics
        let dispatcher = delivery
        let handoffs = HandoffNotifier(database: environment.database, tenantConfig: environment.tenantConfig, logger: environment.logger,
                                       defaultModes: environment.config.providerModes, now: now)
        let retention = RetentionJob(database: environment.database, tenantConfig: environment.tenantConfig, logger: environment.logger, now: now)
        let oncallLog = OnCallRecorder(database: environment.database, logger: environment.logger, now: now)
        let heartbeats = HeartbeatMonitor(database: environment.database, logger: environment.logger, now: now)
        let escalation = engine
        return [
            .periodic("heartbeats", every: poll) { tenant, _ in _ = try await heartbeats.run(tenant) },
            TenantJob("escalation", every: poll, wakeOn: [AlertStore.channel]) { tenant, _ in
                _ = try await escalation.tick(tenant)
                return try await escalation.nextDue(tenant)
            },
            .periodic("handoffs", every: poll) { tenant, _ in _ = try await handoffs.run(tenant) },
            .periodic("oncall_log", every: poll) { tenant, _ in try await oncallLog.run(tenant) },
            .periodic("retention", every: poll) { tenant, _ in _ = try await retention.run(tenant, force: false) },
            .periodic("delivery", every: .seconds(1)) { tenant, _ in _ = try await dispatcher.drain(tenant) },
            .periodic("overdue", every: poll) { tenant, instant in
                let (count, first) = try await dispatcher.overdue(tenant, at: instant)
                metrics.overdue(tenant.slug, count: count, oldest: first.map { instant.timeIntervalSince($0) } ?? 0)
            },
        ]
    }
}
