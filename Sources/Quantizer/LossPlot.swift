import Foundation

/// An SVG line plot of the GPTQ loss of every quantized linear layer, in quantization order
/// (what PB-LLM's `--plot` draws), on a log scale since losses span orders of magnitude.
public enum LossPlot {
    public static func svg(_ report: ConversionReport, title: String) -> String {
        let width = 960.0, height = 420.0, left = 70.0, right = 20.0, top = 40.0, bottom = 60.0
        let losses = report.layers.map { max($0.loss, 1e-12) }
        guard !losses.isEmpty else { return "<svg xmlns=\"http://www.w3.org/2000/svg\"/>" }
        let logs = losses.map(log10)
        let lo = floor(logs.min()!), hi = max(ceil(logs.max()!), lo + 1)
        func x(_ i: Int) -> Double { left + (width - left - right) * Double(i) / Double(max(losses.count - 1, 1)) }
        func y(_ v: Double) -> Double { top + (height - top - bottom) * (1 - (v - lo) / (hi - lo)) }
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="11">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(width / 2)" y="20" text-anchor="middle" font-size="14">\(title.replacingOccurrences(of: "<", with: "&lt;"))</text>
            <text x="\(width / 2)" y="\(height - 10)" text-anchor="middle">linear layer (decoder layer.sublayer, in quantization order)</text>
            <text x="15" y="\(height / 2)" transform="rotate(-90 15 \(height / 2))" text-anchor="middle">GPTQ loss (log10)</text>

            """
        for decade in Int(lo)...Int(hi) {
            let yy = y(Double(decade))
            svg += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(yy)\" y2=\"\(yy)\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(yy + 4)\" text-anchor=\"end\">1e\(decade)</text>\n"
        }
        let step = max(1, losses.count / 20)
        for i in stride(from: 0, to: losses.count, by: step) {
            let l = report.layers[i]
            svg += "<text x=\"\(x(i))\" y=\"\(height - bottom + 14)\" text-anchor=\"middle\">\(l.layer).\(l.name)</text>\n"
        }
        let points = logs.enumerated().map { String(format: "%.1f,%.1f", x($0.offset), y($0.element)) }.joined(separator: " ")
        svg += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"\(points)\"/>\n</svg>\n"
        return svg
    }
}
