import Foundation
import OwlCore
import Testing

/// The vendors' signature formats, checked against the examples their documentation prints (Slack, Twilio) or, where
/// the documentation has none (Zammad, Owl's own), against values computed by Python's `hmac` module.
@Suite struct SignatureTests {
    // Slack's "Verifying requests from Slack" walk-through: this secret, timestamp and slash-command body.
    static let slackSecret = "8f742231b10e8888abcd99yyyzzz85a5"
    static let slackBody = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        + "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url="
        + "https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        + "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    static let slackSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

    @Test func slackMatchesItsDocumentedExample() {
        #expect(SlackSignature.sign(body: Self.slackBody, timestamp: "1531420618", secret: Self.slackSecret) == Self.slackSignature)
    }

    @Test(arguments: [
        (0.0, Self.slackSignature, true), (299, Self.slackSignature, true), (-299, Self.slackSignature, true),
        (301, Self.slackSignature, false),                 // replayed after five minutes
        (0, "v0=" + String(repeating: "0", count: 64), false), (0, "", false),
    ])
    func slackRefusesStaleOrWrongSignatures(offset: Double, signature: String, valid: Bool) {
        let now = Date(timeIntervalSince1970: 1_531_420_618 + offset)
        #expect(SlackSignature.isValid(body: Self.slackBody, timestamp: "1531420618", signature: signature, secret: Self.slackSecret, now: now) == valid)
        #expect(!SlackSignature.isValid(body: Self.slackBody + "x", timestamp: "1531420618", signature: signature, secret: Self.slackSecret, now: now))
    }

    // Twilio's webhook security page: auth token 12345, this URL and these parameters (two editions of the page).
    @Test(arguments: [("+14158675310", "GvWf1cFY/Q7PnoempGyD5oXAezc="), ("+12349013030", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")])
    func twilioMatchesItsDocumentedExamples(caller: String, signature: String) {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2"
        let form = [("To", "+18005551212"), ("From", caller), ("Digits", "1234"), ("CallSid", "CA1234567890ABCDE"), ("Caller", caller)]
        #expect(TwilioSignature.sign(url: url, form: form, authToken: "12345") == signature)
        #expect(TwilioSignature.isValid(url: url, form: form, signature: signature, authToken: "12345"))
        #expect(!TwilioSignature.isValid(url: url.replacingOccurrences(of: "https", with: "http"), form: form, signature: signature, authToken: "12345"))
        #expect(!TwilioSignature.isValid(url: url, form: form + [("Extra", "1")], signature: signature, authToken: "12345"))
        #expect(!TwilioSignature.isValid(url: url, form: form, signature: signature, authToken: "54321"))
    }

    @Test func zammadSignsTheRawBodyWithSHA1() {
        let body = #"{"ticket":{"id":1,"number":"31001","title":"Printer on fire"},"article":{"id":104}}"#
        let signature = "sha1=30133ad1018907adfa59331e80f1ee158a367a5a"
        #expect(ZammadSignature.sign(body: body, token: "Zammad-HMAC-Token") == signature)
        #expect(ZammadSignature.isValid(body: body, signature: signature, token: "Zammad-HMAC-Token"))
        #expect(!ZammadSignature.isValid(body: body + " ", signature: signature, token: "Zammad-HMAC-Token"))
        #expect(!ZammadSignature.isValid(body: body, signature: signature.uppercased(), token: "Zammad-HMAC-Token"))
        #expect(!ZammadSignature.isValid(body: body, signature: "sha256=30133ad1018907adfa59331e80f1ee158a367a5a", token: "Zammad-HMAC-Token"))
    }

    @Test func owlSignsTimestampAndBodyAndRefusesReplays() {
        let body = #"{"event":"incident.created"}"#
        let signature = "sha256=a1d4f2cd25940e15816571d9fb4cee5c7845776066856d9ca0bf42e84ea2c523"
        let sent = Date(timeIntervalSince1970: 1_767_225_600)
        #expect(OwlSignature.sign(body: body, timestamp: "1767225600", secret: "whsec") == signature)
        let headers = OwlSignature.headers(body: body, secret: "whsec", now: sent)
        #expect(headers.map(\.0) == ["X-Owl-Timestamp", "X-Owl-Signature"] && headers.map(\.1) == ["1767225600", signature])
        #expect(OwlSignature.isValid(body: body, timestamp: "1767225600", signature: signature, secret: "whsec", now: sent.addingTimeInterval(120)))
        #expect(!OwlSignature.isValid(body: body, timestamp: "1767225600", signature: signature, secret: "whsec", now: sent.addingTimeInterval(301)))
        #expect(!OwlSignature.isValid(body: body, timestamp: "1767225601", signature: signature, secret: "whsec", now: sent))
        #expect(!OwlSignature.isValid(body: body, timestamp: "soon", signature: signature, secret: "whsec", now: sent))
    }

    @Test(arguments: [("abc", "abc", true), ("abc", "abd", false), ("abc", "abcd", false), ("", "", true), ("", "a", false)])
    func constantTimeEquality(a: String, b: String, equal: Bool) {
        #expect(ConstantTime.equal(a, b) == equal)
    }
}
