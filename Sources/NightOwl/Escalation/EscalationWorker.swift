import AsyncHTTPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import OwlCore
import PostgresNIO
import ServiceLifecycle

/// `--mode worker`: runs the escalation engine every `pollInterval`, at once when an alert is created, acknowledged or
/// resolved (PostgreSQL `NOTIFY`), and when the earliest pending tier falls due; delivers the outbox every second. Missed
/// heartbeats, handoff notices, the on-call log and the daily retention job run with the engine's poll.
public struct EscalationWorker: Service {
    let engine: EscalationEngine
    let dispatcher: NotificationDispatcher
    let handoffs: HandoffNotifier
    let retention: RetentionJob
    let oncallLog: OnCallRecorder
    let heartbeats: HeartbeatMonitor
    let database: Database
    let logger: Logger
    let metrics: WorkerMetrics
    let heartbeat: WorkerHeartbeat
    var pollInterval: Duration = .seconds(30)
    var deliveryInterval: Duration = .seconds(1)

    public init(environment: WorkerEnvironment) {
        metrics = WorkerMetrics(environment.metrics)
        heartbeat = environment.heartbeat
        var engine = EscalationEngine(database: environment.database, tenantConfig: environment.tenantConfig, logger: environment.logger,
                                      publicURL: environment.config.publicURL, defaultModes: environment.config.providerModes)
        engine.metrics = metrics
        self.engine = engine
        var dispatcher = NotificationDispatcher(database: environment.database, logger: environment.logger,
                                                sender: LiveNotificationSender(http: environment.http, config: environment.tenantConfig,
                                                                               publicURL: environment.config.publicURL))
        dispatcher.metrics = metrics
        self.dispatcher = dispatcher
        handoffs = HandoffNotifier(database: environment.database, tenantConfig: environment.tenantConfig, logger: environment.logger,
                                   defaultModes: environment.config.providerModes)
        retention = RetentionJob(database: environment.database, tenantConfig: environment.tenantConfig, logger: environment.logger)
        oncallLog = OnCallRecorder(database: environment.database, logger: environment.logger)
        heartbeats = HeartbeatMonitor(database: environment.database, logger: environment.logger)
        database = environment.database
        logger = environment.logger
        pollInterval = .seconds(environment.config.workerPollSeconds)
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await listen() }
                group.addTask {
                    var lastTick = ContinuousClock.now - pollInterval
                    var nextDue: Date?
                    while !Task.isCancelled {
                        let notified = woken.withLockedValue { flag in
                            defer { flag = false }
                            return flag
                        }
                        let stepDue = nextDue.map { $0 <= Date() } ?? false
                        if notified || stepDue || ContinuousClock.now - lastTick >= pollInterval {
                            lastTick = ContinuousClock.now
                            // Missed heartbeats first, so that their alerts are escalated in this same pass.
                            await run(.heartbeats, "heartbeat check failed") { try await heartbeats.runAll() }
                            await run(.escalation, "escalation tick failed") { _ = try await engine.tick() }
                            await run(.handoffs, "handoff notices failed") { _ = try await handoffs.runAll() }
                            await run(.oncallLog, "recording who is on call failed") { try await oncallLog.runAll() }
                            await run(.retention, "retention failed") { _ = try await retention.runDue() }
                            nextDue = try? await engine.nextDue()
                            if let (count, oldest) = try? await dispatcher.overdue() {
                                metrics.overdue.set(Double(count))
                                metrics.oldestOverdue.set(oldest)
                            }
                        }
                        await run(.delivery, "delivery failed") { _ = try await dispatcher.drain() }
                        heartbeat.beat()
                        try? await Task.sleep(for: deliveryInterval)
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    /// Runs one job of a pass: a failure is logged and counted, and the rest of the pass goes on.
    private func run(_ job: WorkerMetrics.Job, _ failure: String, _ body: () async throws -> Void) async {
        do {
            try await body()
            metrics.ran(job)
        } catch {
            metrics.failed(job)
            logger.error("\(failure)", metadata: ["error": .string("\(error)")])
        }
    }

    /// Set when a NOTIFY arrives; the loop looks at it at least once a second.
    private let woken = NIOLockedValueBox(false)

    /// Holds one connection listening on the alert channel; reconnects after errors.
    private func listen() async {
        while !Task.isCancelled {
            do {
                try await database.client.withConnection { connection in
                    try await connection.listen(on: AlertStore.channel) { notifications in
                        for try await _ in notifications { woken.withLockedValue { $0 = true } }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("alert channel listener stopped; reconnecting", metadata: ["error": .string("\(error)")])
                try? await Task.sleep(for: .seconds(2))
            }
        }
    }
}
