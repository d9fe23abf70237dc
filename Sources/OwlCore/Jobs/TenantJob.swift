import Foundation

/// One piece of background work that a service runs for every tenant: the escalation engine, deliveries, handoff
/// notices, retention, an SLA poller. `TenantWorker` runs a service's jobs; the job only says what to do for one
/// tenant at one instant.
public struct TenantJob: Sendable {
    /// The `job` label of the job's metrics and the name in its logs (`escalation`, `delivery`).
    public let name: String
    /// The job runs at least this often.
    public let interval: Duration
    /// PostgreSQL `NOTIFY` channels that make the job run at once (a new alert for the escalation engine).
    public let wakeChannels: Set<String>
    /// Does the work for one tenant at `now`. It may answer when it wants to run again for that tenant sooner than
    /// its interval (the next escalation tier's deadline), or nil.
    public let run: @Sendable (_ tenant: Tenant, _ now: Date) async throws -> Date?

    public init(_ name: String, every interval: Duration, wakeOn wakeChannels: Set<String> = [],
                run: @escaping @Sendable (_ tenant: Tenant, _ now: Date) async throws -> Date?) {
        self.name = name
        self.interval = interval
        self.wakeChannels = wakeChannels
        self.run = run
    }

    /// A job that never asks for an earlier run than its interval.
    public static func periodic(_ name: String, every interval: Duration, wakeOn wakeChannels: Set<String> = [],
                                run: @escaping @Sendable (_ tenant: Tenant, _ now: Date) async throws -> Void) -> TenantJob {
        TenantJob(name, every: interval, wakeOn: wakeChannels) { tenant, now in
            try await run(tenant, now)
            return nil
        }
    }
}

/// When a job is next due: what the worker remembers of it between passes. A pure rule, tested with tables.
public struct JobSchedule: Sendable, Equatable {
    public var lastRun: Date?
    /// The earliest instant one of the tenants asked for.
    public var requested: Date?

    public init(lastRun: Date? = nil, requested: Date? = nil) {
        self.lastRun = lastRun
        self.requested = requested
    }

    /// Due on the first pass, once its interval has passed, when one of its channels was notified, or when a tenant's
    /// requested time has come.
    public func isDue(_ job: TenantJob, at now: Date, woken: Set<String>) -> Bool {
        guard let lastRun else { return true }
        if now.timeIntervalSince(lastRun) >= job.interval.timeInterval { return true }
        if !job.wakeChannels.isDisjoint(with: woken) { return true }
        if let requested, requested <= now { return true }
        return false
    }
}

extension Duration {
    /// In seconds, as `Date` arithmetic needs it.
    public var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
