import Foundation

/// When each step of a policy is due, relative to when the alert fired. Step `s` is tier `s mod n` of repeat
/// `s / n`; tier 1 is due at once, each later tier after the previous tier's timeout, and a repeat starts after the
/// last tier's timeout. The engine and the dry-run both read this, so they cannot disagree.
public struct EscalationSchedule: Sendable, Hashable {
    public var timeouts: [TimeInterval]
    public var repeatCount: Int

    public var stepCount: Int { timeouts.count * (repeatCount + 1) }

    public func tier(ofStep step: Int) -> Int { step % timeouts.count }
    public func repetition(ofStep step: Int) -> Int { step / timeouts.count }

    /// How long after step `step` the next one is due.
    public func delay(afterStep step: Int) -> TimeInterval { timeouts[tier(ofStep: step)] }

    /// Every step with its due time, for an alert that fired at `firedAt`.
    public func steps(firedAt: Date) -> [(step: Int, at: Date)] {
        var at = firedAt
        return (0..<stepCount).map { step in
            defer { at = at.addingTimeInterval(delay(afterStep: step)) }
            return (step, at)
        }
    }
}
