import Foundation
import OwlCore
import PostgresNIO

/// One message a tier step sends (or cannot send, with the reason).
public struct PlannedNotification: Sendable, Hashable, Encodable {
    public var method: NotificationMethod
    public var target: EscalationTarget
    /// Phone number, Slack member or channel, webhook URL, or `mattermost`; nil when the target cannot be reached.
    public var recipient: String?
    public var userID: UUID?
    public var userName: String?
    public var problem: String?

    enum CodingKeys: String, CodingKey { case method, target, recipient, problem, userID = "user_id", userName = "user_name" }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(method, forKey: .method)
        try c.encode(target, forKey: .target)
        try c.encode(recipient, forKey: .recipient)
        try c.encode(userID, forKey: .userID)
        try c.encode(userName, forKey: .userName)
        try c.encode(problem, forKey: .problem)
    }
}

/// A target as resolved at one moment: the person on call (or named), or why nobody.
enum ResolvedTarget: Sendable, Equatable {
    case person(User)
    case nobody(String)
    case channel(String)
    case webhook(String)
}

/// Turns a tier into messages. Pure: the targets come resolved, so the dry-run and the engine share it.
enum EscalationPlanner {
    static func notifications(for tier: EscalationTier, resolved: [EscalationTarget: ResolvedTarget],
                              defaultSlackChannel: String?) -> [PlannedNotification] {
        var result: [PlannedNotification] = []
        var seen = Set<String>()
        func add(_ n: PlannedNotification) {
            let key = "\(n.method.rawValue)|\(n.recipient ?? "?\(n.target)")"
            if seen.insert(key).inserted { result.append(n) }
        }
        for method in tier.methods {
            switch method {
            case .slackDM, .sms, .phone:
                for target in tier.targets {
                    switch resolved[target] {
                    case .person(let user)?:
                        let address: String? = method == .slackDM ? user.slackUserID : user.phone
                        let missing = method == .slackDM ? "has no slack_user_id" : "has no phone number"
                        add(PlannedNotification(method: method, target: target, recipient: user.isActive ? address : nil, userID: user.id,
                                                userName: user.displayName,
                                                problem: !user.isActive ? "\(user.displayName) is deactivated" : address == nil ? "\(user.displayName) \(missing)" : nil))
                    case .nobody(let reason)?:
                        add(PlannedNotification(method: method, target: target, recipient: nil, problem: reason))
                    default:
                        continue
                    }
                }
            case .slackChannel:
                let channels = tier.targets.compactMap { if case .channel(let name) = $0 { name } else { nil } }
                if channels.isEmpty {
                    add(PlannedNotification(method: method, target: .channel(defaultSlackChannel ?? ""), recipient: defaultSlackChannel,
                                            problem: defaultSlackChannel == nil ? "no channel target and no slack_alert_channel setting" : nil))
                }
                for name in channels { add(PlannedNotification(method: method, target: .channel(name), recipient: name)) }
            case .mattermost:
                add(PlannedNotification(method: method, target: .channel("mattermost"), recipient: "mattermost"))
            case .webhook:
                for target in tier.targets {
                    if case .webhook(let url) = target { add(PlannedNotification(method: method, target: target, recipient: url)) }
                }
            }
        }
        return result
    }
}

/// Resolves targets against rosters and users at a moment, caching what it loaded for the rest of a tick.
final class TargetResolver: @unchecked Sendable {
    let connection: PostgresConnection
    let rosters: RosterStore
    private var rosterCache: [UUID: Roster?] = [:]

    init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.rosters = RosterStore(logger: logger)
    }

    func resolve(_ targets: [EscalationTarget], at instant: Date) async throws -> [EscalationTarget: ResolvedTarget] {
        var result: [EscalationTarget: ResolvedTarget] = [:]
        for target in targets { result[target] = try await resolve(target, at: instant) }
        return result
    }

    func resolve(_ target: EscalationTarget, at instant: Date) async throws -> ResolvedTarget {
        switch target {
        case .channel(let name): return .channel(name)
        case .webhook(let url): return .webhook(url)
        case .user(let id):
            guard let user = try await rosters.users([id], on: connection)[id] else { return .nobody("user \(id.uuidString.lowercased()) does not exist") }
            return .person(user)
        case .rosterPrimary(let id), .rosterSecondary(let id):
            guard let roster = try await roster(id) else { return .nobody("roster \(id.uuidString.lowercased()) does not exist") }
            let (plan, people) = try await rosters.plan(for: roster, around: DateInterval(start: instant, duration: 0), on: connection)
            guard let segment = OnCallTimeline.segment(plan, at: instant) else { return .nobody("nobody is on call for \(roster.name) then") }
            let wanted: UUID?
            if case .rosterPrimary = target { wanted = segment.primary } else { wanted = segment.secondary }
            guard let wanted, let person = people[wanted] else { return .nobody("\(roster.name) has no secondary then") }
            return .person(person)
        }
    }

    private func roster(_ id: UUID) async throws -> Roster? {
        if let cached = rosterCache[id] { return cached }
        let loaded = try await rosters.get(id, on: connection)
        rosterCache[id] = loaded
        return loaded
    }
}
