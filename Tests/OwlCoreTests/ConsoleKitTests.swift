import Foundation
import Hummingbird
@testable import OwlCore
import OwlTestSupport
import Testing

@Suite struct ConsoleKitTests {
    /// (zone, instant, text): the zone is named as people know it, by its offset where it has no name.
    @Test(arguments: [
        ("UTC", 1_796_522_400.0, "Sun 6 Dec, 02:00 UTC"),
        ("Europe/Berlin", 1_796_522_400, "Sun 6 Dec, 03:00 CET"),
        ("Europe/Berlin", 1_783_000_000, "Thu 2 Jul, 15:46 CEST"),
        ("America/New_York", 1_796_522_400, "Sat 5 Dec, 21:00 EST"),
        ("America/New_York", 1_783_000_000, "Thu 2 Jul, 09:46 EDT"),
        ("Asia/Kolkata", 1_796_522_400, "Sun 6 Dec, 07:30 IST"),
        ("Asia/Kathmandu", 1_796_522_400, "Sun 6 Dec, 07:45 UTC+05:45"),
        ("America/Sao_Paulo", 1_796_522_400, "Sat 5 Dec, 23:00 UTC-03:00"),
        ("UTC", 1_700_000_000, "Tue 14 Nov 2023, 22:13 UTC"),
    ] as [(String, Double, String)])
    func timesNameTheirZone(zone: String, at: Double, text: String) {
        let time = ConsoleTime(zone: TimeZone(identifier: zone)!, now: Date(timeIntervalSince1970: 1_796_522_400))
        #expect(time.text(Date(timeIntervalSince1970: at)) == text)
    }

    /// (POSIX rule, standard, daylight): the names of a time-zone file's footer.
    @Test(arguments: [("CET-1CEST,M3.5.0,M10.5.0/3", "CET", "CEST"), ("EST5EDT,M3.2.0,M11.1.0", "EST", "EDT"), ("IST-5:30", "IST", nil),
                      ("<+0545>-5:45", nil, nil), ("<-03>3", nil, nil), ("AEST-10AEDT,M10.1.0,M4.1.0/3", "AEST", "AEDT"), ("", nil, nil)]
          as [(String, String?, String?)])
    func zoneRules(rule: String, standard: String?, daylight: String?) {
        let names = ZoneNames.parse(footer: rule)
        #expect(names.standard == standard && names.daylight == daylight)
    }

    @Test(arguments: [(0.0, "just now"), (59, "just now"), (60, "1 min ago"), (3_599, "59 min ago"), (3_600, "1 h ago"),
                      (86_400, "1 day ago"), (3 * 86_400, "3 days ago"), (-30, "in under a minute"), (-7_200, "in 2 h")] as [(Double, String)])
    func ago(seconds: Double, text: String) {
        #expect(ConsoleTime.ago(seconds) == text)
    }

    @Test(arguments: [(42.0, "42 s"), (600, "10 min"), (3_600, "1 h"), (3_900, "1 h 5 min"), (90_000, "1 d 1 h"), (-5, "0 s")] as [(Double, String)])
    func durations(seconds: Double, text: String) {
        #expect(ConsoleTime.duration(seconds) == text)
    }

    @Test func aFlashSurvivesItsCookieAndNothingElseDoes() throws {
        let flash = ConsoleFlash(kind: "acknowledged", ids: [UUID(), UUID()], text: "Acknowledged: <b>disk</b> full")
        let response = flash.redirect(to: "/alerts?status=open", secure: true)
        #expect(response.status == .seeOther && response.headers[.location] == "/alerts?status=open")
        let cookie = try #require(response.headers[.setCookie])
        #expect(cookie.contains("HttpOnly") && cookie.contains("Secure") && cookie.contains("Max-Age=60"))
        let value = String(cookie.split(separator: ";")[0].dropFirst("owl_flash=".count))
        let request = Request(head: .init(method: .get, scheme: "http", authority: "x", path: "/alerts", headerFields: [.cookie: "a=b; owl_flash=\(value)"]),
                              body: .init(buffer: .init()))
        #expect(ConsoleFlash.read(request) == flash)
        for garbage in ["owl_flash=%%%", "owl_flash=e30", "owl_flash=" + String(repeating: "A", count: 5_000)] {
            let bad = Request(head: .init(method: .get, scheme: "http", authority: "x", path: "/", headerFields: [.cookie: garbage]), body: .init(buffer: .init()))
            #expect(ConsoleFlash.read(bad) == nil)
        }
        #expect(ConsoleFlash(kind: "x", ids: Array(repeating: UUID(), count: 80), text: "").ids.count == 50)
    }

    @Test(arguments: [("dark", "dark"), ("light", "light"), ("system", nil), ("purple", nil), (nil, nil)] as [(String?, String?)])
    func themes(cookie: String?, attribute: String?) {
        #expect(ConsoleTheme(cookie: cookie).attribute == attribute)
    }

    @Test func assetsCarryTheHashOfTheirContent() {
        let assets = ConsoleAssets.shipped
        #expect(assets.stylesheet.path.range(of: #"^/assets/owl\.[0-9a-f]{12}\.css$"#, options: .regularExpression) != nil)
        #expect(assets.script.path.range(of: #"^/assets/owl\.[0-9a-f]{12}\.js$"#, options: .regularExpression) != nil)
    }

    @Test func everyTemplateEscapesWhatItShows() {
        #expect(TemplateSafety.violations(WebPages.core) == [])
    }

    /// The arithmetic calendar agrees with Foundation's on every kind of day: before 1970, leap days, century years,
    /// the last second of a year.
    @Test func civilTimeAgreesWithFoundation() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var samples: [Double] = [0, -1, -86_400, -86_401, 951_782_400, 951_868_799, 4_107_542_399, 1_800_000_000, -2_208_988_800]
        var state: UInt64 = 42
        for _ in 0..<2_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1
            samples.append(Double(Int64(bitPattern: state) % 8_000_000_000))
        }
        for seconds in samples {
            let date = Date(timeIntervalSince1970: seconds)
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: date)
            let civil = CivilTime(date)
            #expect([civil.year, civil.month, civil.day, civil.hour, civil.minute, civil.weekday + 1]
                    == [parts.year, parts.month, parts.day, parts.hour, parts.minute, parts.weekday].map { $0 ?? -1 }, "\(seconds)")
        }
    }

    /// (source, served): comments and spacing go, meaning stays (strings, descendant selectors, `calc` operators).
    @Test(arguments: [
        ("/* note */\na { color: red; }\n", "a{color:red}"),
        (".filters .field,\n.grid > li { margin: 0 auto; }", ".filters .field,.grid>li{margin:0 auto}"),
        (":root { --font: \"Segoe UI\", Arial; width: calc(100% - 2rem); }", ":root{--font:\"Segoe UI\",Arial;width:calc(100% - 2rem)}"),
        ("@media (prefers-color-scheme: dark) {\n  :root { color: #fff; }\n}", "@media (prefers-color-scheme: dark){:root{color:#fff}}"),
        ("a:focus-visible { outline: 3px solid; }", "a:focus-visible{outline:3px solid}"),
    ] as [(String, String)])
    func stylesheetsAreServedSmaller(source: String, served: String) {
        #expect(AssetMinifier.css(source) == served)
    }

    @Test func scriptsKeepTheirLines() {
        let source = "// header\n(() => {\n  \"use strict\";\n\n  const a = \"http://x\"; // kept\n  go(a);\n})();\n"
        #expect(AssetMinifier.script(source) == "(() => {\n\"use strict\";\nconst a = \"http://x\"; // kept\ngo(a);\n})();\n")
    }
}
