import Foundation
import Quantizer
import Runtime

/// `pbllm-run convert`: quantize a GGUF checkpoint into a packed .pbllm file.
enum ConvertCommand: Command {
    static let name = "convert"
    static let synopsis = "pbllm-run convert INPUT -o OUT.pbllm [--method xnor] [--low-frac 0.9] [--calib FILE | --no-gptq] [options]"
    static let summary = """
        Quantizes every linear layer of every decoder block the PB-LLM way: the (1 − low_frac)
        most salient weights to --high-bit bits, the rest by --method, with GPTQ error
        compensation (GPTQ-PB) from calibration text, or round-to-nearest with --no-gptq.
        INPUT is a GGUF file or a name from models.txt.
        """
    static let options: [Option] = [
        Option(names: ["-o", "--output"], value: "FILE", help: "the .pbllm file to write"),
        Option(names: ["--method"], value: "M", help: "non-salient weights: xnor | sign | 2bit | 4bit | prune | no (default xnor)"),
        Option(names: ["--low-frac"], value: "F", help: "share of weights binarized (default 0.9)"),
        Option(names: ["--high-bit"], value: "B", help: "bits of salient weights, 1-8 (default 8)"),
        Option(names: ["--salient"], value: "S", help: "salient selection: magnitude | hessian | error (default magnitude)"),
        Option(names: ["--positions"], value: "P", help: "salient positions as a zstd bitmap (zstd, smaller) or block offsets read in place (offsets) (default zstd)"),
        Option(names: ["--pbllm-statistics"], value: nil, help: "xnor's μ, α over the whole row with salient weights as zeros, as PB-LLM's code computes them"),
        Option(names: ["--act-order"], value: nil, help: "GPTQ's act-order: columns with the largest Hessian diagonal first"),
        Option(names: ["--column-scale"], value: nil, help: "a scale per input column too: ŵ = c·(μ + α·s) (stored with the layer)"),
        Option(names: ["--no-refit"], value: nil, help: "keep PB-LLM's μ, α (no Hessian least-squares refit of the row scales)"),
        Option(names: ["--salient-unit"], value: "U", help: "salient single weights, or whole input columns: weight | column (default weight)"),
        Option(names: ["--no-gptq"], value: nil, help: "round-to-nearest: no calibration, no error compensation"),
        Option(names: ["--calib"], value: "FILE", help: "calibration text (UTF-8), needed for GPTQ and hessian saliency"),
        Option(names: ["--nsamples"], value: "N", help: "calibration windows (default 128)"),
        Option(names: ["--seqlen"], value: "L", help: "tokens per calibration window (default 2048)"),
        Option(names: ["--seed"], value: "S", help: "seed for drawing calibration windows (default 0)"),
        Option(names: ["--groupsize"], value: "G", help: "columns per saliency/scale group (default: whole rows)"),
        Option(names: ["--blocksize"], value: "B", help: "GPTQ column block (default 128)"),
        Option(names: ["--percdamp"], value: "P", help: "GPTQ dampening, share of mean diag(H) (default 0.01)"),
        Option(names: ["--head"], value: "E", help: "output head and embeddings: f16 | q8 (default f16)"),
        Option(names: ["--min-layer"], value: "N", help: "quantize decoder layers ≥ N (default 0)"),
        Option(names: ["--max-layer"], value: "N", help: "quantize decoder layers < N (default all)"),
        Option(names: ["--only"], value: "LIST", help: "quantize only linear layers whose name contains one of LIST (e.g. attn_q,ffn_down)"),
        Option(names: ["--invert"], value: nil, help: "quantize exactly the layers not selected"),
        Option(names: ["--report"], value: "FILE", help: "write the per-layer report (loss, time) as JSON"),
        Option(names: ["--plot"], value: "FILE", help: "write an SVG plot of the loss per layer"),
        CommonOptions.threads, CommonOptions.json,
    ]

    static func run(_ args: ParsedArguments) throws {
        guard args.positionals.count == 1 else { throw UsageError(description: "give exactly one INPUT model") }
        guard let output = args.string("-o") else { throw UsageError(description: "missing -o OUT.pbllm") }
        var o = ConversionOptions()
        var s = QuantSettings()
        if let m = args.string("--method") {
            guard let method = QuantSettings.Method(rawValue: m) else {
                throw UsageError(description: "--method must be one of \(QuantSettings.Method.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            s.method = method
        }
        if let m = args.string("--salient") {
            guard let salient = QuantSettings.Salient(rawValue: m) else { throw UsageError(description: "--salient must be magnitude, hessian or error") }
            s.salient = salient
        }
        if let u = args.string("--salient-unit") {
            guard let unit = QuantSettings.SalientUnit(rawValue: u) else { throw UsageError(description: "--salient-unit must be weight or column") }
            s.salientUnit = unit
        }
        s.lowFraction = try args.float("--low-frac", default: s.lowFraction)
        guard (0...1).contains(s.lowFraction) else { throw UsageError(description: "--low-frac must be in 0...1") }
        s.highBit = try args.int("--high-bit", default: s.highBit, in: 1...8)
        s.gptq = !args.flag("--no-gptq")
        s.refitScales = !args.flag("--no-refit")
        s.columnScale = args.flag("--column-scale")
        s.actOrder = args.flag("--act-order")
        s.pbllmStatistics = args.flag("--pbllm-statistics")
        s.blockSize = try args.int("--blocksize", default: s.blockSize, in: 1...65536)
        s.percentDamp = try args.float("--percdamp", default: s.percentDamp)
        if args.string("--groupsize") != nil { s.groupSize = try args.int("--groupsize", default: 0, in: 1...Int(Int32.max)) }
        o.settings = s
        o.calibrationFile = args.string("--calib")
        if let f = o.calibrationFile, !FileManager.default.isReadableFile(atPath: f) {
            throw UsageError(description: "cannot read calibration file '\(f)'")
        }
        o.samples = try args.int("--nsamples", default: o.samples, in: 1...1_000_000)
        o.sequenceLength = try args.int("--seqlen", default: o.sequenceLength, in: 2...1_000_000)
        o.seed = UInt64(try args.int("--seed", default: 0, in: 0...Int.max))
        switch args.string("--head") ?? "f16" {
        case "f16", "float": o.head = .float
        case "q8": o.head = .q8
        case let other: throw UsageError(description: "--head must be f16 or q8, got '\(other)'")
        }
        switch args.string("--positions") ?? "zstd" {
        case "zstd": o.pbEncoding = .pbz
        case "offsets": o.pbEncoding = .pb
        case let other: throw UsageError(description: "--positions must be zstd or offsets, got '\(other)'")
        }
        o.minLayer = try args.int("--min-layer", default: 0, in: 0...Int.max)
        o.maxLayer = try args.int("--max-layer", default: Int.max, in: 0...Int.max)
        o.only = args.string("--only").map { $0.split(separator: ",").map(String.init) } ?? []
        o.invert = args.flag("--invert")
        o.threads = try CommonOptions.threads(args)
        if o.needsCalibration && o.calibrationFile == nil {
            throw UsageError(description: "GPTQ\(s.salient != .magnitude ? " and \(s.salient.rawValue) saliency" : "") need calibration text: pass --calib FILE (or --no-gptq for round-to-nearest)")
        }

        let report = try Converter.convert(input: args.positionals[0], output: output, options: o, log: Output.log) { p in
            Output.log(String(format: "[layer %d/%d] %@  elapsed %.0f s, ETA %.0f s", p.layer, p.layers, p.sublayer, p.elapsed, p.eta))
        }
        let totalLoss = report.layers.reduce(0) { $0 + $1.loss }
        if let path = args.string("--report") {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: path), options: .atomic)
        }
        if let path = args.string("--plot") {
            let title = "\(args.positionals[0]) \(s.method.rawValue) low_frac \(s.lowFraction) high_bit \(s.highBit) \(s.salient.rawValue)\(s.gptq ? " GPTQ" : " RTN")"
            try LossPlot.svg(report, title: title).write(toFile: path, atomically: true, encoding: .utf8)
        }
        if args.flag("--json") {
            Output.json(["output": output, "bytes": report.outputBytes, "seconds": report.seconds, "total_loss": totalLoss,
                         "layers": report.layers.count])
        } else {
            let loss = s.gptq ? String(format: "; total GPTQ loss %.4g", totalLoss) : ""
            Output.log(String(format: "wrote %@ (%d bytes) in %.1f s", output, report.outputBytes, report.seconds) + loss)
        }
    }
}
