import Kernels
import Runtime

/// Options several commands share, with llama.cpp's names.
enum CommonOptions {
    static let model = Option(names: ["-m", "--model"], value: "MODEL",
                              help: "model file (.gguf) or a name from models.txt (e.g. smollm2-135m)")
    static let threads = Option(names: ["-t", "--threads"], value: "N", help: "threads to use (default: all cores)")
    static let json = Option(names: ["--json"], value: nil, help: "print one machine-readable JSON object")
    static let dequantize = Option(names: ["--dequantize"], value: nil,
                                   help: "run .pbllm PB layers as dequantized float weights (the kernels' reference)")
    static let kernel = Option(names: ["--kernel"], value: "NAME",
                               help: "sign-bit kernel for .pbllm layers (default: the fastest here; see bench --kernels)")
    static let sampling: [Option] = [
        Option(names: ["--temp"], value: "T", help: "temperature; 0 = greedy (default 0.8)"),
        Option(names: ["--top-k"], value: "K", help: "keep the K most likely tokens; 0 = off (default 40)"),
        Option(names: ["--top-p"], value: "P", help: "nucleus sampling; 1 = off (default 0.95)"),
        Option(names: ["--min-p"], value: "P", help: "drop tokens below P × the top probability; 0 = off (default 0.05)"),
        Option(names: ["--repeat-penalty"], value: "R", help: "penalise recent tokens; 1 = off (default 1.0)"),
        Option(names: ["--repeat-last-n"], value: "N", help: "tokens the penalty looks back over (default 64)"),
        Option(names: ["--seed"], value: "S", help: "random seed (default: random)"),
    ]

    static func threads(_ args: ParsedArguments) throws -> Int {
        try args.int("-t", default: System.coreCount, in: 1...1024)
    }

    /// Loads -m with the shared loading options (--dequantize, --kernel).
    static func loadModel(_ args: ParsedArguments) throws -> LoadedModel {
        var kernel = KernelVariant.best
        if let name = args.string("--kernel") {
            guard let k = KernelVariant(rawValue: name) else {
                throw UsageError(description: "unknown --kernel '\(name)' (one of: \(KernelVariant.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            kernel = k
        }
        return try LoadedModel.load(try modelName(args), threads: try threads(args), dequantize: args.flag("--dequantize"),
                                    kernel: kernel)
    }

    static func modelName(_ args: ParsedArguments) throws -> String {
        guard let m = args.string("-m") else { throw UsageError(description: "missing -m MODEL") }
        return m
    }

    static func sampling(_ args: ParsedArguments) throws -> SamplingParameters {
        var p = SamplingParameters()
        p.temperature = try args.float("--temp", default: p.temperature)
        p.topK = try args.int("--top-k", default: p.topK, in: 0...Int.max)
        p.topP = try args.float("--top-p", default: p.topP)
        p.minP = try args.float("--min-p", default: p.minP)
        p.repeatPenalty = try args.float("--repeat-penalty", default: p.repeatPenalty)
        p.repeatLastN = try args.int("--repeat-last-n", default: p.repeatLastN, in: 0...Int.max)
        guard p.temperature >= 0 else { throw UsageError(description: "--temp must be ≥ 0") }
        guard (0...1).contains(p.topP), (0...1).contains(p.minP) else {
            throw UsageError(description: "--top-p and --min-p must be in 0...1")
        }
        guard p.repeatPenalty > 0 else { throw UsageError(description: "--repeat-penalty must be > 0") }
        if let s = args.string("--seed") {
            guard let seed = UInt64(s) else { throw UsageError(description: "--seed expects a non-negative integer, got '\(s)'") }
            p.seed = seed
        } else {
            p.seed = UInt64.random(in: 0...UInt64(UInt32.max))
        }
        return p
    }
}
