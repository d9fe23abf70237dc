import Foundation
import OwlCore

/// RFC 5545 calendar text: CRLF line ends, lines folded at 75 octets, TEXT values escaped, times in UTC.
enum ICalendar {
    struct Event: Sendable, Equatable {
        var uid: String
        var start: Date
        var end: Date
        var summary: String
        var description: String
        var categories: [String]
    }

    static func render(name: String, events: [Event], stamp: Date) -> String {
        var lines = [
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Owl//NightOwl on-call//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
            "X-WR-CALNAME:\(escape(name))", "REFRESH-INTERVAL;VALUE=DURATION:PT1H", "X-PUBLISHED-TTL:PT1H",
        ]
        for event in events {
            lines += [
                "BEGIN:VEVENT", "UID:\(event.uid)", "DTSTAMP:\(utc(stamp))", "DTSTART:\(utc(event.start))", "DTEND:\(utc(event.end))",
                "SUMMARY:\(escape(event.summary))", "DESCRIPTION:\(escape(event.description))",
                "CATEGORIES:\(event.categories.map(escape).joined(separator: ","))", "TRANSP:TRANSPARENT", "END:VEVENT",
            ]
        }
        lines.append("END:VCALENDAR")
        return lines.map(fold).joined(separator: "\r\n") + "\r\n"
    }

    /// `20260329T060000Z`.
    static func utc(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - days * 86_400
        let (y, m, d) = LocalDate(daysSinceEpoch: days).components
        return "\(y.zeroPadded(4))\(m.zeroPadded(2))\(d.zeroPadded(2))T\((rest / 3600).zeroPadded(2))\((rest / 60 % 60).zeroPadded(2))\((rest % 60).zeroPadded(2))Z"
    }

    /// TEXT escaping (RFC 5545 3.3.11).
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case ";": out += "\\;"
            case ",": out += "\\,"
            case "\n", "\r\n": out += "\\n"
            case "\r": continue
            default: out.append(character)
            }
        }
        return out
    }

    /// Folds a content line into pieces of at most 75 octets, never inside a UTF-8 sequence (RFC 5545 3.1).
    static func fold(_ line: String) -> String {
        guard line.utf8.count > 75 else { return line }
        var pieces: [String] = []
        var current = ""
        var octets = 0
        for scalar in line.unicodeScalars {
            let size = String(scalar).utf8.count
            let limit = pieces.isEmpty ? 75 : 74 // continuation lines start with a space
            if octets + size > limit {
                pieces.append(current)
                current = ""
                octets = 0
            }
            current.unicodeScalars.append(scalar)
            octets += size
        }
        pieces.append(current)
        return pieces.joined(separator: "\r\n ")
    }
}
