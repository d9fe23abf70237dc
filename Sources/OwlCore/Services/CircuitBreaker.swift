import Foundation
import NIOConcurrencyHelpers

/// Stops calling a service that keeps failing: after `threshold` failures in a row the circuit opens and calls fail at
/// once for `openFor`; then one trial call is let through (half-open): its success closes the circuit, its failure
/// opens it again. Time comes from the caller, so tests drive it.
public final class CircuitBreaker: Sendable {
    public enum State: String, Sendable, Equatable { case closed, open, halfOpen = "half_open" }

    public let threshold: Int
    public let openFor: TimeInterval
    private let box = NIOLockedValueBox<(failures: Int, openedAt: Date?, trialInFlight: Bool)>((0, nil, false))

    public init(threshold: Int = 5, openFor: TimeInterval = 30) {
        self.threshold = threshold
        self.openFor = openFor
    }

    public func state(at now: Date) -> State {
        box.withLockedValue { value in
            guard let opened = value.openedAt else { return .closed }
            return now.timeIntervalSince(opened) >= openFor ? .halfOpen : .open
        }
    }

    /// Whether a call may go now. In the half-open state only one trial call goes at a time.
    public func allow(at now: Date) -> Bool {
        box.withLockedValue { value in
            guard let opened = value.openedAt else { return true }
            guard now.timeIntervalSince(opened) >= openFor, !value.trialInFlight else { return false }
            value.trialInFlight = true
            return true
        }
    }

    public func recordSuccess() {
        box.withLockedValue { $0 = (0, nil, false) }
    }

    public func recordFailure(at now: Date) {
        box.withLockedValue { value in
            value.failures += 1
            if value.trialInFlight || value.failures >= threshold { value.openedAt = now }
            value.trialInFlight = false
        }
    }
}

/// One breaker per called service and base URL, shared by every call of the process.
public final class CircuitBreakers: Sendable {
    private let breakers = NIOLockedValueBox<[String: CircuitBreaker]>([:])
    let threshold: Int
    let openFor: TimeInterval

    public init(threshold: Int = 5, openFor: TimeInterval = 30) {
        self.threshold = threshold
        self.openFor = openFor
    }

    public func breaker(for key: String) -> CircuitBreaker {
        breakers.withLockedValue { all in
            if let existing = all[key] { return existing }
            let made = CircuitBreaker(threshold: threshold, openFor: openFor)
            all[key] = made
            return made
        }
    }
}
