import Foundation

/// One metric over a pipeline's runs as an SVG line chart, drawn on the server: runs
/// along x in order (labelled with run number and short commit), the value on y with
/// its range, a dot per run linking to it, so that a regression is seen, not read.
struct MetricChart: Sendable {
    static let width = 560.0, height = 220.0, left = 56.0, right = 12.0, top = 14.0, bottom = 38.0

    var name: String
    var points: [MetricSeries.Point]

    var svg: String {
        let values = points.map(\.value)
        guard let low = values.min(), let high = values.max() else { return "" }
        let span = high - low == 0 ? max(abs(high), 1) : high - low
        let plotW = Self.width - Self.left - Self.right, plotH = Self.height - Self.top - Self.bottom
        func x(_ index: Int) -> Double {
            points.count == 1 ? Self.left + plotW / 2 : Self.left + plotW * Double(index) / Double(points.count - 1)
        }
        func y(_ value: Double) -> Double { Self.top + plotH * (1 - (value - low) / span) }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"\(Int(Self.width))\" height=\"\(Int(Self.height))\" "
            + "viewBox=\"0 0 \(Int(Self.width)) \(Int(Self.height))\" role=\"img\" aria-label=\"\(HTML.escape(name)) over runs\">"
        out += "<rect x=\"\(Self.left)\" y=\"\(Self.top)\" width=\"\(plotW)\" height=\"\(plotH)\" fill=\"#fff\" stroke=\"#cfd8dc\"/>"
        for (value, anchor) in [(high, Self.top + 4), (low, Self.top + plotH)] {
            out += "<text x=\"\(Self.left - 6)\" y=\"\(anchor)\" text-anchor=\"end\">\(HTML.escape(Self.format(value)))</text>"
        }
        let path = points.indices.map { "\($0 == 0 ? "M" : "L")\(x($0)),\(y(points[$0].value))" }.joined(separator: " ")
        out += "<path d=\"\(path)\" fill=\"none\" stroke=\"#0277bd\" stroke-width=\"2\"/>"
        let labelEvery = max(1, points.count / 8)
        for (index, point) in points.enumerated() {
            out += "<a href=\"/runs/\(point.runID)\"><circle cx=\"\(x(index))\" cy=\"\(y(point.value))\" r=\"4\" fill=\"#0277bd\">"
                + "<title>run #\(point.runID) (\(point.commit.prefix(7))): \(Self.format(point.value))</title></circle></a>"
            if index % labelEvery == 0 || index == points.count - 1 {
                out += "<text x=\"\(x(index))\" y=\"\(Self.height - 20)\" text-anchor=\"middle\">#\(point.runID)</text>"
                out += "<text x=\"\(x(index))\" y=\"\(Self.height - 6)\" text-anchor=\"middle\" fill=\"#757575\">\(point.commit.prefix(7))</text>"
            }
        }
        return out + "</svg>"
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.4g", value)
    }
}
