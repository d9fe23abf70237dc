import Foundation

extension UUID {
    /// A random (version 4) UUID from the system's random source (`getrandom`). Foundation's `UUID()` opens, reads and
    /// closes /dev/urandom on Linux every time: three system calls for each request id on the ingestion path.
    public static func random() -> UUID {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }
}
