import AsyncHTTPClient
import Foundation
import NIOHTTP1

/// What one attempt at an outbound call came to.
public enum DeliveryOutcome: Sendable, Equatable {
    case delivered(reference: String?)
    /// Worth trying again (5xx, 429, network errors, timeouts), after `retryAfter` when the provider says so.
    case retryable(String, retryAfter: TimeInterval?)
    /// Never retried (other 4xx, provider refusals, missing configuration).
    case permanent(String)
}

/// How an HTTP answer or a transport error maps to an outcome: the one rule every outbound delivery follows.
public enum HTTPDelivery {
    /// nil for 2xx; 429 and 5xx retry (after `Retry-After` when given, in seconds or as an HTTP date); other statuses
    /// are final, since sending the same request again would get the same answer.
    public static func classify(_ status: HTTPResponseStatus, retryAfter: String?, body: String, now: Date) -> DeliveryOutcome? {
        let code = Int(status.code)
        if (200..<300).contains(code) { return nil }
        let detail = "HTTP \(code): \(body.prefix(200))"
        if code == 429 || code >= 500 { return .retryable(detail, retryAfter: retryAfter.flatMap { RetryAfter.seconds($0, now: now) }) }
        return .permanent(detail)
    }

    /// A call that got no answer (refused connection, timeout, TLS failure) may work later.
    public static func outcome(of error: any Error) -> DeliveryOutcome {
        if let error = error as? HTTPClientError, error == .deadlineExceeded || error == .connectTimeout || error == .readTimeout {
            return .retryable("timed out", retryAfter: nil)
        }
        return .retryable("\(error)", retryAfter: nil)
    }
}

/// `Retry-After` as RFC 9110 writes it: delay-seconds or an HTTP date.
public enum RetryAfter {
    public static func seconds(_ value: String, now: Date) -> TimeInterval? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = TimeInterval(text) { return seconds.isFinite ? max(seconds, 0) : nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        return max(date.timeIntervalSince(now), 0)
    }
}

/// When a failed delivery is tried again, and when it is given up. Exponential backoff from `base`, capped at `cap`;
/// `jitter` takes up to that fraction off each delay so that messages which failed together (a provider's outage) do
/// not all come back in the same second. A provider's own `Retry-After` is honoured as given (within an hour).
public struct RetryPolicy: Sendable {
    public var base: TimeInterval
    public var cap: TimeInterval
    public var maxAttempts: Int
    public var jitter: Double

    public init(base: TimeInterval = 10, cap: TimeInterval = 600, maxAttempts: Int = 5, jitter: Double = 0.2) {
        self.base = base
        self.cap = cap
        self.maxAttempts = maxAttempts
        self.jitter = jitter
    }

    /// The delay before attempt `attempt + 1` without jitter: `base`, 2×`base`, 4×`base`, … up to `cap`, or what the
    /// provider asked for.
    public func backoff(afterAttempt attempt: Int, retryAfter: TimeInterval?) -> TimeInterval {
        if let retryAfter, retryAfter.isFinite { return min(max(retryAfter, 1), 3_600) }
        return min(base * pow(2, Double(max(attempt - 1, 0))), cap)
    }

    /// The delay with jitter applied; `unit` is a number in 0..<1 (random in the services, fixed in tests).
    public func delay(afterAttempt attempt: Int, retryAfter: TimeInterval?, unit: Double) -> TimeInterval {
        let plain = backoff(afterAttempt: attempt, retryAfter: retryAfter)
        if let retryAfter, retryAfter.isFinite { return plain }
        return plain * (1 - jitter * min(max(unit, 0), 1))
    }

    public func givesUp(afterAttempt attempt: Int) -> Bool { attempt >= maxAttempts }
}
