import Foundation
import OwlCore
import Testing
@testable import NightOwl

/// `2026-03-29T06:00:00Z` → Date.
func utc(_ text: String) -> Date {
    guard let date = ISO8601DateFormatter().date(from: text) else { fatalError("bad test timestamp \(text)") }
    return date
}

func date(_ text: String) -> LocalDate { LocalDate(text)! }
func time(_ text: String) -> LocalTime { LocalTime(text)! }
func zone(_ id: String) -> Zone { Zone(identifier: id)! }

@Suite struct CivilTimeTests {
    @Test(arguments: [
        ("1970-01-01", 0), ("2000-03-01", 11_017), ("2026-03-29", 20_541), ("1969-12-31", -1), ("2024-02-29", 19_782),
    ])
    func dayNumbers(text: String, days: Int) {
        #expect(LocalDate(text)?.daysSinceEpoch == days)
        #expect(LocalDate(daysSinceEpoch: days).description == text)
    }

    @Test(arguments: ["2026-02-29", "2026-13-01", "2026-1-01", "26-01-01", "2026-01-32", "2026/01/01", "", "２０２６-01-01"])
    func badDates(text: String) { #expect(LocalDate(text) == nil) }

    @Test(arguments: [("08:00", 480), ("00:00", 0), ("23:59", 1439), ("08:30:00", 510)])
    func times(text: String, minutes: Int) { #expect(LocalTime(text)?.minutes == minutes) }

    @Test(arguments: ["24:00", "8:00", "08:60", "08:00:30", "08", "ab:cd", ""])
    func badTimes(text: String) { #expect(LocalTime(text) == nil) }

    @Test(arguments: ["Europe/Berlin", "Pacific/Auckland", "America/New_York", "UTC", "Asia/Kolkata"])
    func knownZones(id: String) { #expect(Zone(identifier: id) != nil) }

    @Test(arguments: ["Mars/Olympus", "CET+1", "GMT+1", "europe/berlin", "", "PST"])
    func unknownZones(id: String) { #expect(Zone(identifier: id) == nil) }

    /// Wall-clock times to instants, including the skipped and repeated hours of daylight-saving changes.
    @Test(arguments: [
        ("Europe/Berlin", "2026-03-28", "08:00", "2026-03-28T07:00:00Z"),
        ("Europe/Berlin", "2026-03-29", "08:00", "2026-03-29T06:00:00Z"),
        ("Europe/Berlin", "2026-03-29", "02:30", "2026-03-29T01:30:00Z"), // skipped: becomes 03:30 CEST
        ("Europe/Berlin", "2026-10-25", "02:30", "2026-10-25T00:30:00Z"), // repeated: first (CEST) occurrence
        ("Pacific/Auckland", "2026-04-05", "08:00", "2026-04-04T20:00:00Z"),
        ("Pacific/Auckland", "2026-04-05", "02:30", "2026-04-04T13:30:00Z"), // repeated: NZDT occurrence
        ("Pacific/Auckland", "2026-09-27", "02:30", "2026-09-26T14:30:00Z"), // skipped: becomes 03:30 NZDT
        ("Pacific/Auckland", "2026-09-27", "08:00", "2026-09-26T19:00:00Z"),
        ("America/New_York", "2026-03-08", "02:30", "2026-03-08T07:30:00Z"), // skipped: 03:30 EDT
        ("America/New_York", "2026-11-01", "01:30", "2026-11-01T05:30:00Z"), // repeated: EDT occurrence
        ("America/New_York", "2026-11-01", "08:00", "2026-11-01T13:00:00Z"),
    ])
    func wallClockToInstant(zoneID: String, day: String, at: String, expected: String) {
        #expect(zone(zoneID).instant(date(day), time(at)) == utc(expected))
    }

    @Test func localTimeWithOffset() {
        #expect(zone("Europe/Berlin").rfc3339(utc("2026-03-29T06:00:00Z")) == "2026-03-29T08:00:00+02:00")
        #expect(zone("America/New_York").rfc3339(utc("2026-01-10T03:04:05Z")) == "2026-01-09T22:04:05-05:00")
        #expect(zone("Asia/Kolkata").rfc3339(utc("2026-01-10T00:00:00Z")) == "2026-01-10T05:30:00+05:30")
    }
}

@Suite struct RotationTests {
    /// Shift lengths across daylight-saving changes: the handoff stays at 08:00 local.
    @Test(arguments: [
        ("Europe/Berlin", "2026-03-23", 7, "2026-03-23T07:00:00Z", "2026-03-30T06:00:00Z", 167.0),
        ("Europe/Berlin", "2026-10-19", 7, "2026-10-19T06:00:00Z", "2026-10-26T07:00:00Z", 169.0),
        ("Pacific/Auckland", "2026-03-30", 7, "2026-03-29T19:00:00Z", "2026-04-05T20:00:00Z", 169.0),
        ("Pacific/Auckland", "2026-09-21", 7, "2026-09-20T20:00:00Z", "2026-09-27T19:00:00Z", 167.0),
        ("America/New_York", "2026-03-02", 7, "2026-03-02T13:00:00Z", "2026-03-09T12:00:00Z", 167.0),
        ("America/New_York", "2026-10-26", 7, "2026-10-26T12:00:00Z", "2026-11-02T13:00:00Z", 169.0),
        ("Europe/Berlin", "2026-03-28", 1, "2026-03-28T07:00:00Z", "2026-03-29T06:00:00Z", 23.0),
        ("Europe/Berlin", "2026-10-24", 1, "2026-10-24T06:00:00Z", "2026-10-25T07:00:00Z", 25.0),
        ("UTC", "2026-01-01", 3, "2026-01-01T08:00:00Z", "2026-01-04T08:00:00Z", 72.0),
    ])
    func firstShiftAcrossChanges(zoneID: String, start: String, length: Int, begins: String, ends: String, hours: Double) {
        let rotation = Rotation(zone: zone(zoneID), startDate: date(start), handoff: time("08:00"), lengthDays: length)
        let shift = rotation.interval(ofShift: 0)
        #expect(shift.start == utc(begins))
        #expect(shift.end == utc(ends))
        #expect(shift.duration / 3600 == hours)
    }

    @Test func shiftIndexFindsTheShiftAcrossYears() {
        let rotation = Rotation(zone: zone("Europe/Berlin"), startDate: date("2026-01-05"), handoff: time("08:00"), lengthDays: 7)
        #expect(rotation.shiftIndex(at: utc("2026-01-05T07:00:00Z")) == 0)
        #expect(rotation.shiftIndex(at: utc("2026-01-12T06:59:59Z")) == 0)
        #expect(rotation.shiftIndex(at: utc("2026-01-12T07:00:00Z")) == 1)
        #expect(rotation.shiftIndex(at: utc("2026-03-30T05:59:00Z")) == 11)
        #expect(rotation.shiftIndex(at: utc("2026-03-30T06:00:00Z")) == 12)
        #expect(rotation.shiftIndex(at: utc("2026-01-05T06:59:59Z")) == -1)
        #expect(rotation.shiftIndex(at: utc("2030-06-03T06:00:00Z")) == 230)
    }

    @Test(arguments: [
        (0, 3, 0, 1 as Int?), (1, 3, 1, 2), (2, 3, 2, 0), (3, 3, 0, 1), (7, 3, 1, 2), (-1, 3, 2, 0), (5, 1, 0, nil), (4, 2, 0, 1),
    ])
    func memberPositions(shift: Int, members: Int, primary: Int, secondary: Int?) {
        let positions = Rotation.positions(shift: shift, members: members)
        #expect(positions?.primary == primary)
        #expect(positions?.secondary == secondary)
    }

    @Test func noMembersNobody() { #expect(Rotation.positions(shift: 3, members: 0) == nil) }

    @Test func endDateStopsTheRoster() {
        let rotation = Rotation(zone: zone("Europe/Berlin"), startDate: date("2026-01-05"), handoff: time("08:00"), lengthDays: 7,
                                endDate: date("2026-01-14"))
        #expect(rotation.ends == utc("2026-01-14T23:00:00Z"))
        #expect(rotation.isRunning(at: utc("2026-01-14T22:59:00Z")))
        #expect(!rotation.isRunning(at: utc("2026-01-14T23:00:00Z")))
        #expect(!rotation.isRunning(at: utc("2026-01-05T06:59:00Z")))
        #expect(rotation.interval(ofShift: 1).end == utc("2026-01-14T23:00:00Z"))
    }
}
