import Testing
@testable import OwlCore

@Suite struct ConsoleChartTests {
    @Test(arguments: [(0.0, 1.0), (1, 1), (3, 5), (7, 10), (10, 10), (11, 20), (120, 200), (501, 1000)] as [(Double, Double)])
    func niceMaximum(value: Double, maximum: Double) {
        #expect(ConsoleChart.niceMaximum(value) == maximum)
    }

    /// Every point carries its value in a `<title>`; names and labels are escaped; empty values draw nothing.
    @Test func barsAndLinesNameEveryPoint() {
        let series = [ConsoleChart.Series(name: "<b>critical</b>", style: "fill-critical", values: [2, 0, 3]),
                      ConsoleChart.Series(name: "info", style: "fill-info", values: [1, nil, 1])]
        let bars = ConsoleChart.stackedBars(id: "c", title: "Per day", labels: ["1 Dec", "2 Dec", "3 Dec"], series: series) { String(Int($0)) }.description
        #expect(bars.hasPrefix("<svg class=\"chart\"") && bars.contains("<title id=\"c-title\">Per day</title>"))
        #expect(bars.components(separatedBy: "<rect").count - 1 == 4, "zero and missing values draw no bar")
        #expect(bars.contains("<title>3 Dec: 3 &lt;b&gt;critical&lt;/b&gt;</title>") && !bars.contains("<b>"))
        let lines = ConsoleChart.lines(id: "l", title: "Times", labels: ["a", "b", "c"], series: [series[1]]) { "\($0) min" }.description
        #expect(lines.components(separatedBy: "<circle").count - 1 == 2)
        #expect(lines.contains("d=\"M44.0 ") && lines.contains(" M"), "a missing value breaks the line")
        let rows = ConsoleChart.table(labels: ["a", "b", "c"], series: series) { String(Int($0)) }
        #expect(rows.map { $0["cells"] as? [String] ?? [] } == [["2", "1"], ["0", "–"], ["3", "1"]])
    }
}
