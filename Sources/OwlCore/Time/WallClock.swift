import Foundation

/// Where every "now" of the services comes from: handlers, encoders, jobs and pollers read this clock, never `Date()`,
/// so that tests can drive time (`DrivenClock` in the test support) and every part of one run agrees on it.
public struct WallClock: Sendable {
    private let read: @Sendable () -> Date

    public init(_ read: @escaping @Sendable () -> Date) { self.read = read }

    public var now: Date { read() }

    /// The machine's clock: the one place the services ask the system for the time.
    public static let system = WallClock { Date() }
}

extension CodingUserInfoKey {
    /// The instant a response is encoded at, for fields that depend on it (a roster's `is_active`).
    public static let owlNow = CodingUserInfoKey(rawValue: "owl.now")!
}

extension Encoder {
    /// The instant the response is encoded at, as `JSON.response(_:now:)` set it.
    public func instant() throws -> Date {
        guard let now = userInfo[.owlNow] as? Date else {
            throw EncodingError.invalidValue(Date.self, .init(codingPath: codingPath, debugDescription: "encoded without the instant (JSON.response(_:now:))"))
        }
        return now
    }
}
