extension Optional {
    /// `flatMap` for an async transform (loading a linked record when there is one).
    func asyncFlatMap<U>(_ transform: (Wrapped) async throws -> U?) async rethrows -> U? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
