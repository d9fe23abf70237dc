import Crypto
import Foundation

/// Compares secrets (signatures, tokens) in time that does not depend on where they first differ.
public enum ConstantTime {
    public static func equal(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var difference = UInt8(truncatingIfNeeded: x.count ^ y.count)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0 && x.count == y.count
    }
}

/// HMAC-SHA256 and HMAC-SHA1 of UTF-8 text, in the encodings providers put in their headers. The one place the
/// services compute a request signature; the vendor formats below are built on it.
public enum HMACSigning {
    public static func sha256Hex(_ message: String, key: String) -> String {
        APIKeyMaterial.hex(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(key.utf8))))
    }

    public static func sha1Hex(_ message: String, key: String) -> String {
        APIKeyMaterial.hex(HMAC<Insecure.SHA1>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(key.utf8))))
    }

    public static func sha1Base64(_ message: String, key: String) -> String {
        Data(HMAC<Insecure.SHA1>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(key.utf8)))).base64EncodedString()
    }
}

/// Slack's request signing: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:<X-Slack-Request-Timestamp>:<body>">` with the
/// app's signing secret; requests older than five minutes are refused, so a captured one cannot be replayed.
public enum SlackSignature {
    public static let maximumAge: TimeInterval = 300

    public static func sign(body: String, timestamp: String, secret: String) -> String {
        "v0=" + HMACSigning.sha256Hex("v0:\(timestamp):\(body)", key: secret)
    }

    public static func isValid(body: String, timestamp: String, signature: String, secret: String, now: Date) -> Bool {
        guard let seconds = TimeInterval(timestamp), abs(now.timeIntervalSince1970 - seconds) <= maximumAge else { return false }
        return ConstantTime.equal(sign(body: body, timestamp: timestamp, secret: secret), signature)
    }
}

/// Twilio's `X-Twilio-Signature`: base64 of HMAC-SHA1, keyed with the auth token, over the full URL Twilio requested
/// followed by every POST parameter's name and value, sorted by name.
public enum TwilioSignature {
    public static func sign(url: String, form: [(String, String)], authToken: String) -> String {
        let data = url + form.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }.map { $0.0 + $0.1 }.joined()
        return HMACSigning.sha1Base64(data, key: authToken)
    }

    public static func isValid(url: String, form: [(String, String)], signature: String, authToken: String) -> Bool {
        ConstantTime.equal(sign(url: url, form: form, authToken: authToken), signature)
    }
}

/// Zammad's webhook signature (GitHub's hub signature): `X-Hub-Signature: sha1=<hex HMAC-SHA1 of the raw body>` with the
/// webhook's "HMAC SHA1 Signature Token". Zammad sends no timestamp, so a replay can only be told apart by
/// `X-Zammad-Delivery`, which the receiver keeps.
public enum ZammadSignature {
    public static let header = "X-Hub-Signature"

    public static func sign(body: String, token: String) -> String { "sha1=" + HMACSigning.sha1Hex(body, key: token) }

    public static func isValid(body: String, signature: String, token: String) -> Bool {
        ConstantTime.equal(sign(body: body, token: token), signature)
    }
}

/// Owl's own signed webhooks (outbound webhooks and the events between Owl services):
/// `X-Owl-Signature: sha256=<hex HMAC-SHA256 of "<X-Owl-Timestamp>.<body>">`; a receiver refuses a timestamp more than
/// five minutes from its clock, so a captured request cannot be replayed later.
public enum OwlSignature {
    public static let signatureHeader = "X-Owl-Signature"
    public static let timestampHeader = "X-Owl-Timestamp"
    public static let maximumAge: TimeInterval = 300

    public static func sign(body: String, timestamp: String, secret: String) -> String {
        "sha256=" + HMACSigning.sha256Hex("\(timestamp).\(body)", key: secret)
    }

    /// The headers of a request signed at `now`.
    public static func headers(body: String, secret: String, now: Date) -> [(String, String)] {
        let timestamp = String(Int(now.timeIntervalSince1970))
        return [(timestampHeader, timestamp), (signatureHeader, sign(body: body, timestamp: timestamp, secret: secret))]
    }

    public static func isValid(body: String, timestamp: String, signature: String, secret: String, now: Date) -> Bool {
        guard let seconds = TimeInterval(timestamp), abs(now.timeIntervalSince1970 - seconds) <= maximumAge else { return false }
        return ConstantTime.equal(sign(body: body, timestamp: timestamp, secret: secret), signature)
    }
}
