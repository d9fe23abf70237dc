import Foundation

/// Charts drawn on the server as SVG (no script, no library): stacked bars and lines, each point with a `<title>` that
/// names its value (shown on hover, read by screen readers), colours from the stylesheet's classes so that both themes
/// apply. Pages put the same numbers in a table beside the chart (`table`).
public enum ConsoleChart {
    public struct Series: Sendable {
        public var name: String
        /// A class of the stylesheet (`fill-critical`, `line-mtta`).
        public var style: String
        /// One value per label; nil where there is none (a day without acknowledgements).
        public var values: [Double?]

        public init(name: String, style: String, values: [Double?]) {
            self.name = name
            self.style = style
            self.values = values
        }
    }

    static let width = 640.0, height = 220.0
    static let left = 44.0, right = 8.0, top = 10.0, bottom = 26.0
    static var plotWidth: Double { width - left - right }
    static var plotHeight: Double { height - top - bottom }

    /// One bar per label, a segment per series (in order, from the bottom).
    public static func stackedBars(id: String, title: String, labels: [String], series: [Series], format: (Double) -> String) -> TrustedHTML {
        let totals = labels.indices.map { index in series.reduce(0.0) { $0 + (($1.values[safe: index] ?? nil) ?? 0) } }
        let scale = niceMaximum(totals.max() ?? 0)
        var svg = open(id: id, title: title) + axes(scale: scale, labels: labels, format: format)
        let slot = plotWidth / Double(max(labels.count, 1))
        for (index, label) in labels.enumerated() {
            var base = 0.0
            for each in series {
                guard let value = each.values[safe: index] ?? nil, value > 0 else { continue }
                let y = top + plotHeight * (1 - (base + value) / scale)
                let h = plotHeight * value / scale
                svg += "<rect class=\"\(escape(each.style))\" x=\(attribute(left + slot * Double(index) + slot * 0.15)) y=\(attribute(y))"
                svg += " width=\(attribute(slot * 0.7)) height=\(attribute(max(h, 0.5)))><title>\(escape(label)): \(escape(format(value))) \(escape(each.name))</title></rect>"
                base += value
            }
        }
        return TrustedHTML(svg + "</svg>")
    }

    /// A line per series through the labels' points; a gap where a value is missing.
    public static func lines(id: String, title: String, labels: [String], series: [Series], format: (Double) -> String) -> TrustedHTML {
        let scale = niceMaximum(series.flatMap { $0.values.compactMap { $0 } }.max() ?? 0)
        var svg = open(id: id, title: title) + axes(scale: scale, labels: labels, format: format)
        let step = plotWidth / Double(max(labels.count - 1, 1))
        for each in series {
            var path = ""
            var pen = false
            var dots = ""
            for (index, value) in each.values.enumerated() {
                guard let value, index < labels.count else { pen = false; continue }
                let x = left + step * Double(index), y = top + plotHeight * (1 - value / scale)
                path += "\(pen ? "L" : "M")\(number(x)) \(number(y)) "
                pen = true
                dots += "<circle class=\"\(escape(each.style))\" cx=\(attribute(x)) cy=\(attribute(y)) r=\"3\"><title>\(escape(labels[index])): \(escape(each.name)) \(escape(format(value)))</title></circle>"
            }
            if !path.isEmpty { svg += "<path class=\"\(escape(each.style))\" d=\"\(path.trimmingCharacters(in: .whitespaces))\"/>" }
            svg += dots
        }
        return TrustedHTML(svg + "</svg>")
    }

    /// The chart's numbers as rows for a table: the label, then one cell per series.
    public static func table(labels: [String], series: [Series], format: (Double) -> String) -> [[String: Any]] {
        labels.enumerated().map { index, label in
            ["label": label, "cells": series.map { ($0.values[safe: index] ?? nil).map(format) ?? "–" }]
        }
    }

    /// The smallest "nice" number (1, 2 or 5 times a power of ten) at or above `value`, at least 1.
    static func niceMaximum(_ value: Double) -> Double {
        guard value > 1 else { return 1 }
        let power = pow(10, floor(log10(value)))
        for factor in [1.0, 2, 5, 10] where factor * power >= value { return factor * power }
        return 10 * power
    }

    static func open(id: String, title: String) -> String {
        "<svg class=\"chart\" viewBox=\"0 0 \(number(width)) \(number(height))\" role=\"img\" aria-labelledby=\"\(escape(id))-title\">"
            + "<title id=\"\(escape(id))-title\">\(escape(title))</title>"
    }

    /// Grid lines at 0, half and the top with their values; the first, middle and last labels below.
    static func axes(scale: Double, labels: [String], format: (Double) -> String) -> String {
        var svg = ""
        for fraction in [0.0, 0.5, 1.0] {
            let y = top + plotHeight * (1 - fraction)
            svg += "<line class=\"grid\" x1=\(attribute(left)) x2=\(attribute(width - right)) y1=\(attribute(y)) y2=\(attribute(y))/>"
            svg += "<text class=\"axis\" x=\(attribute(left - 4)) y=\(attribute(y + 4)) text-anchor=\"end\">\(escape(format(scale * fraction)))</text>"
        }
        let marks = Set([0, labels.count / 2, labels.count - 1].filter { $0 >= 0 && $0 < labels.count })
        let slot = plotWidth / Double(max(labels.count, 1))
        for index in marks.sorted() {
            let x = left + slot * (Double(index) + 0.5)
            svg += "<text class=\"axis\" x=\(attribute(x)) y=\(attribute(height - 8)) text-anchor=\"middle\">\(escape(labels[index]))</text>"
        }
        return svg
    }

    static func number(_ value: Double) -> String { String(format: "%.1f", value) }
    static func attribute(_ value: Double) -> String { "\"\(number(value))\"" }
    static func escape(_ text: String) -> String { Markdown.escape(text) }
}

extension Array {
    /// The element at `index`, or nil past either end.
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
