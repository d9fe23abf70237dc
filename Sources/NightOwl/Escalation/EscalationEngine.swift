import Foundation
import Logging
import OwlCore
import PostgresNIO

/// Steps firing, unacknowledged alerts through their policy's tiers. Each tick, per tenant:
/// 1. alerts that need escalating and have no state yet get one (step 0, due when the alert was received);
/// 2. due states are claimed with `FOR UPDATE SKIP LOCKED`, so two engines never take the same alert; for each, the
///    step's targets are resolved through the rosters at the step's due time and its messages are queued in the
///    outbox under an idempotency key (alert, step, method, recipient), its events recorded, and the state advanced,
///    all in one transaction. A worker killed mid-tick rolls back and another takes the alert over, so each
///    (alert, tier, repeat) is queued exactly once.
/// The clock is injected: tests drive it instead of sleeping.
public struct EscalationEngine: Sendable {
    let database: Database
    let tenantConfig: TenantConfigService
    let logger: Logger
    let now: @Sendable () -> Date
    /// Where links in messages point (the public URL of the API), if known.
    var publicURL: String?
    /// Provider modes of the process (environment); tenants' settings win.
    var defaultModes: [String: ProviderMode]
    var metrics = WorkerMetrics.unserved()

    public init(database: Database, tenantConfig: TenantConfigService, logger: Logger, publicURL: String? = nil,
                defaultModes: [String: ProviderMode] = [:], now: @escaping @Sendable () -> Date) {
        self.defaultModes = defaultModes
        self.database = database
        self.tenantConfig = tenantConfig
        self.logger = logger
        self.publicURL = publicURL
        self.now = now
    }

    var store: EscalationStore { EscalationStore(logger: logger) }

    /// When the tenant's earliest unfinished escalation step is due, so the worker can wake for it on time.
    public func nextDue(_ tenant: Tenant) async throws -> Date? {
        try await database.withTenant(tenant.slug) { connection -> Date? in
            for try await at in try await connection.query("SELECT min(next_at) FROM escalation_state WHERE finished_at IS NULL",
                                                           logger: logger).decode(Date?.self) { return at }
            return nil
        }
    }

    public func tick(_ tenant: Tenant) async throws -> Int {
        let instant = now()
        try await database.withTenant(tenant.slug) { try await discover(at: instant, on: $0) }
        let settings = try await ProviderSettings.load(tenantConfig, tenant: tenant, defaults: defaultModes)
        var total = 0
        while true {
            let taken = try await database.withTenant(tenant.slug, actor: "escalation-engine") { connection in
                try await step(at: instant, settings: settings, on: connection)
            }
            total += taken
            if taken < Self.batch { return total }
        }
    }

    static let batch = 20

    /// Gives an escalation state to every firing alert at or above its policy's threshold that has none.
    func discover(at instant: Date, on connection: PostgresConnection) async throws {
        try await connection.query("""
            INSERT INTO escalation_state (alert_id, policy_id, next_step, next_at)
            SELECT a.id, p.id, 0, a.created_at
            FROM alerts a
            LEFT JOIN services s ON lower(s.name) = lower(a.service)
            JOIN escalation_policies p ON p.id = COALESCE(s.escalation_policy_id, (SELECT id FROM escalation_policies WHERE is_default))
            WHERE a.status = 'firing' AND a.created_at > \(instant) - interval '1 day' AND a.created_at <= \(instant)
              AND array_position(ARRAY['info','warning','major','critical'], a.severity)
                  >= array_position(ARRAY['info','warning','major','critical'], p.severity_threshold)
              AND NOT EXISTS (SELECT 1 FROM escalation_state e WHERE e.alert_id = a.id)
            ON CONFLICT (alert_id) DO NOTHING
            """, logger: logger)
    }

    /// Claims up to a batch of due states and takes one step for each.
    func step(at instant: Date, settings: ProviderSettings, on connection: PostgresConnection) async throws -> Int {
        let rows = try await connection.query("""
            SELECT e.alert_id, e.policy_id, e.next_step, e.next_at, a.status, a.title, a.severity, a.service, a.cluster, a.namespace,
                   a.suggested_solution, a.runbook_url, a.first_fired_at, slack_actor(e.requested_by)
            FROM escalation_state e JOIN alerts a ON a.id = e.alert_id
            WHERE e.finished_at IS NULL AND e.next_at <= \(instant)
            ORDER BY e.next_at LIMIT \(Self.batch)
            FOR UPDATE OF e SKIP LOCKED
            """, logger: logger)
        var due: [DueStep] = []
        for try await row in rows { due.append(try DueStep(row)) }
        var policies: [UUID: EscalationPolicy] = [:]
        let resolver = TargetResolver(connection: connection, logger: logger)
        var escalatedTiers: [Int] = []
        for item in due {
            guard item.status == "firing" else {
                try await finish(item.alertID, reason: item.status, at: instant, on: connection)
                continue
            }
            if policies[item.policyID] == nil { policies[item.policyID] = try await store.get(item.policyID, on: connection) }
            guard let policy = policies[item.policyID] else {
                try await finish(item.alertID, reason: "policy deleted", at: instant, on: connection)
                continue
            }
            let schedule = policy.schedule
            guard item.step < schedule.stepCount else {
                try await threadNote(item.alertID, SlackThreadNote(event: .exhausted, at: instant, firedAt: item.firedAt), key: "exhausted",
                                     on: connection)
                try await finish(item.alertID, reason: "exhausted", at: instant, on: connection)
                continue
            }
            let tierIndex = schedule.tier(ofStep: item.step)
            let tier = policy.tiers[tierIndex]
            let resolved = try await resolver.resolve(tier.targets, at: item.dueAt)
            let planned = EscalationPlanner.notifications(for: tier, resolved: resolved, defaultSlackChannel: settings.defaultSlackChannel)
            let firstPerson = planned.first { $0.userID != nil }
            let notice = item.notice(tier: tierIndex, repetition: schedule.repetition(ofStep: item.step), onCall: firstPerson,
                                     slackID: resolved.values.compactMap { if case .person(let u) = $0 { u.slackUserID } else { nil } }.first,
                                     link: publicURL.map { AlertMessages.consoleLink(base: $0, alertID: item.alertID) })
            for notification in planned {
                try await record(notification, notice: notice, item: item, policy: policy, tier: tierIndex,
                                 repetition: schedule.repetition(ofStep: item.step), settings: settings, on: connection)
            }
            // The alert's channel messages (from earlier steps) tell the team in their threads.
            if item.step > 0 {
                var slackIDs: [UUID: String] = [:]
                for case .person(let user) in resolved.values { slackIDs[user.id] = user.slackUserID }
                var note = SlackThreadNote.escalation(tier: tierIndex + 1, round: schedule.repetition(ofStep: item.step), planned: planned,
                                                      slackIDs: slackIDs, at: instant)
                note.by = item.requestedBy
                try await threadNote(item.alertID, note, key: "step:\(item.step)", on: connection)
            }
            // The next tier comes a full timeout after this one was paged: on time that is the schedule (and the
            // dry-run); after a worker outage, people still get their timeout instead of every tier at once.
            let pagedAt = max(item.dueAt, instant)
            try await connection.query("""
                UPDATE escalation_state SET next_step = next_step + 1, next_at = \(pagedAt.addingTimeInterval(schedule.delay(afterStep: item.step))),
                    requested_by = NULL
                WHERE alert_id = \(item.alertID)
                """, logger: logger)
            escalatedTiers.append(tierIndex + 1)
        }
        for tier in escalatedTiers { metrics.escalated(tier: tier) }
        return due.count
    }

    /// Queues one message (or records why it cannot be sent) and its event.
    func record(_ n: PlannedNotification, notice: AlertNotice, item: DueStep, policy: EscalationPolicy, tier: Int, repetition: Int,
                settings: ProviderSettings, on connection: PostgresConnection) async throws {
        let target = JSONValue.from(n.target).jsonText()
        guard let recipient = n.recipient else {
            try await connection.query("""
                INSERT INTO escalation_events (alert_id, policy_id, tier, repeat, target, user_id, recipient, method, outcome, error, created_at)
                VALUES (\(item.alertID), \(policy.id), \(tier), \(repetition), \(target)::jsonb, \(n.userID), '', \(n.method.rawValue),
                        'unreachable', \(n.problem), \(now()))
                """, logger: logger)
            return
        }
        let mode = settings.mode(for: n.method)
        let payload = OutboundPayload.render(n.method, notice: notice, recipient: recipient).jsonText()
        let key = "esc:\(item.alertID.uuidString.lowercased()):\(item.step):\(n.method.rawValue):\(recipient)"
        let rows = try await connection.query("""
            INSERT INTO notification_outbox (idempotency_key, alert_id, step, provider, method, mode, recipient, payload, next_attempt_at, created_at)
            VALUES (\(key), \(item.alertID), \(item.step), \(n.method.provider), \(n.method.rawValue), \(mode.rawValue), \(recipient), \(payload)::jsonb,
                    \(now()), \(now()))
            ON CONFLICT (idempotency_key) DO NOTHING RETURNING id
            """, logger: logger)
        var notificationID: UUID?
        for try await id in rows.decode(UUID.self) { notificationID = id }
        guard let notificationID else { return } // queued before by a run that committed
        try await connection.query("""
            INSERT INTO escalation_events (alert_id, policy_id, tier, repeat, target, user_id, recipient, method, outcome, notification_id, created_at)
            VALUES (\(item.alertID), \(policy.id), \(tier), \(repetition), \(target)::jsonb, \(n.userID), \(recipient), \(n.method.rawValue),
                    'queued', \(notificationID), \(now()))
            """, logger: logger)
    }

    /// Queues `note` in the threads of the alert's channel messages (once per message and `key`).
    func threadNote(_ alert: UUID, _ note: SlackThreadNote, key: String, on connection: PostgresConnection) async throws {
        try await connection.query("SELECT slack_thread_note(\(alert), \(note.json.jsonText())::jsonb, \(key))", logger: logger)
    }

    func finish(_ alert: UUID, reason: String, at instant: Date, on connection: PostgresConnection) async throws {
        try await connection.query("""
            UPDATE escalation_state SET finished_at = \(instant), finish_reason = \(reason) WHERE alert_id = \(alert) AND finished_at IS NULL
            """, logger: logger)
    }
}

/// A claimed state row with what the messages need of its alert.
struct DueStep: Sendable {
    var alertID: UUID
    var policyID: UUID
    var step: Int
    var dueAt: Date
    var status: String
    var title: String
    var severity: Severity
    var service: String?
    var cluster: String?
    var namespace: String?
    var solution: String?
    var runbookURL: String?
    var firedAt: Date
    /// Who asked for this step now, if someone did (as Slack should name them).
    var requestedBy: String?

    init(_ row: PostgresRow) throws {
        let (alert, policy, step, due, status, title, severity, service, cluster, namespace, solution, runbook, fired, requested) =
            try row.decode((UUID, UUID, Int, Date, String, String, String, String?, String?, String?, String?, String?, Date, String?).self)
        alertID = alert
        policyID = policy
        self.step = step
        dueAt = due
        self.status = status
        self.title = title
        self.severity = Severity(rawValue: severity) ?? .warning
        self.service = service
        self.cluster = cluster
        self.namespace = namespace
        self.solution = solution
        runbookURL = runbook
        firedAt = fired
        requestedBy = requested
    }

    func notice(tier: Int, repetition: Int, onCall: PlannedNotification?, slackID: String?, link: String?) -> AlertNotice {
        AlertNotice(alertID: alertID, title: title, severity: severity, service: service, cluster: cluster, namespace: namespace,
                    solution: solution, runbookURL: runbookURL, onCallName: onCall?.userName, onCallSlackID: slackID,
                    tier: tier, repetition: repetition, link: link)
    }
}
