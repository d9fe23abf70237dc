import Foundation
import NIOConcurrencyHelpers
import OwlCore

/// A clock the test moves by hand; `wallClock` hands it to the code under test.
public final class DrivenClock: Sendable {
    private let value: NIOLockedValueBox<Date>

    public init(_ start: Date) { value = NIOLockedValueBox(start) }

    public var now: Date { value.withLockedValue { $0 } }

    public func advance(to date: Date) { value.withLockedValue { $0 = date } }

    public func advance(by seconds: TimeInterval) { value.withLockedValue { $0 = $0.addingTimeInterval(seconds) } }

    public var wallClock: WallClock { WallClock { self.now } }
}
