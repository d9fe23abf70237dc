import Foundation
import HummingbirdTesting
import OwlCore
import OwlTestSupport
import Testing
@testable import NightOwl

@Suite struct ICalendarTextTests {
    @Test(arguments: [
        ("plain", "plain"), ("a,b;c", "a\\,b\\;c"), ("back\\slash", "back\\\\slash"), ("two\nlines", "two\\nlines"), ("crlf\r\nend", "crlf\\nend"),
    ])
    func escaping(raw: String, escaped: String) { #expect(ICalendar.escape(raw) == escaped) }

    @Test func longLinesFoldAt75OctetsWithoutSplittingCharacters() {
        let line = "SUMMARY:" + String(repeating: "Überstunden ☎ ", count: 20)
        let folded = ICalendar.fold(line)
        let pieces = folded.components(separatedBy: "\r\n")
        #expect(pieces.count > 1)
        #expect(pieces.allSatisfy { $0.utf8.count <= 75 })
        #expect(pieces.dropFirst().allSatisfy { $0.hasPrefix(" ") })
        #expect(pieces.enumerated().map { $0.offset == 0 ? $0.element : String($0.element.dropFirst()) }.joined() == line)
    }

    @Test func documentShape() {
        let start = utc("2026-03-29T06:00:00Z")
        let text = ICalendar.render(name: "On call", events: [
            ICalendar.Event(uid: "u1@nightowl", start: start, end: start.addingTimeInterval(3600), summary: "On call: A", description: "x", categories: ["ON-CALL"]),
        ], stamp: start)
        #expect(text.hasPrefix("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"))
        #expect(text.hasSuffix("END:VCALENDAR\r\n"))
        #expect(text.contains("\r\nDTSTART:20260329T060000Z\r\nDTEND:20260329T070000Z\r\n"))
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "every line ends in CRLF")
    }
}

@Suite struct CalendarFeedTests {
    @Test func personalFeedCoversEveryRosterAndTokensRotate() async throws {
        let f = try await NightOwlFixture.make()
        try await f.app.test { client in
            let anna = try await client.createUser(f.key, "Anna")
            let ben = try await client.createUser(f.key, "Ben")
            for name in ["One", "Two"] {
                _ = try await client.createRoster(f.key, #"""
                    {"name":"\#(name)","timezone":"UTC","rotation_type":"daily","handoff_time":"00:00","start_date":"2026-01-01","members":["\#(anna)","\#(ben)"]}
                    """#)
            }
            let feed = try await client.call(.get, "/api/v1/users/\(anna)/shifts.ics?from=2026-01-01T00:00:00Z&to=2026-01-05T00:00:00Z", key: f.key)
            #expect(feed.status == .ok)
            #expect(feed.headers[.contentType] == "text/calendar; charset=utf-8")
            let events = feed.text.components(separatedBy: "BEGIN:VEVENT").count - 1
            // Four days, two rosters: Anna is primary on two days and secondary on two, in each.
            #expect(events == 8, "\(feed.text)")
            #expect(feed.text.contains("SUMMARY:On call (primary): One") && feed.text.contains("SUMMARY:On call (secondary): Two"))

            let keys = try await Conformance.keysForAllRoles(f.app, adminKey: f.key)
            #expect(try await client.call(.post, "/api/v1/users/\(anna)/calendar-token", key: keys[.engineer]).status == .forbidden)
            let token = try await client.call(.post, "/api/v1/users/\(anna)/calendar-token", key: f.key)
            #expect(token.status == .created)
            let path = token.json["path"]?.stringValue ?? ""
            #expect(path.hasPrefix("/api/v1/calendars/\(f.tenant.slug.value)/cal_") && path.hasSuffix(".ics"))
            #expect(token.json["url"]?.stringValue?.hasSuffix(path) == true)
            let secret = try await client.call(.get, path + "?from=2026-01-01T00:00:00Z&to=2026-01-05T00:00:00Z")
            let withoutStamps = { (text: String) in text.components(separatedBy: "\r\n").filter { !$0.hasPrefix("DTSTAMP:") } }
            #expect(secret.status == .ok && withoutStamps(secret.text) == withoutStamps(feed.text))
            // Wrong token, wrong tenant, malformed: all the same 404.
            let other = path.replacingOccurrences(of: "/cal_", with: "/cal_0")
            #expect(try await client.call(.get, other).status == .notFound)
            #expect(try await client.call(.get, "/api/v1/calendars/nosuchtenant/cal_abc.ics").status == .notFound)
            #expect(try await client.call(.get, "/api/v1/calendars/\(f.tenant.slug.value)/whatever").status == .notFound)
            await f.app.platform.audit.flush()
            let audit = try await client.call(.get, "/api/v1/audit-log?resource=user", key: f.key)
            #expect(audit.text.contains("user.calendar_token.rotate"))
        }
    }
}
