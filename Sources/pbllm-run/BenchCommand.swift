import Foundation
import Kernels
import Runtime

/// `pbllm-run bench`: prefill and decode throughput, like llama-bench.
enum BenchCommand: Command {
    static let name = "bench"
    static let synopsis = "pbllm-run bench -m MODEL [-m MODEL2 ...] [-p 512] [-n 128] [-r 3] [-t 1,2] [--json] | --kernels"
    static let summary = """
        For each model and thread count: prefill of a p-token prompt (pp) and decode of n tokens
        (tg), mean ± standard deviation over r repetitions after a warm-up, with the file's size,
        bits per weight and the peak memory. Benchmark several models in one run so that their
        ratios hold on a noisy machine. --kernels times the sign-bit kernels alone.
        """
    static let options: [Option] = [
        CommonOptions.model,
        Option(names: ["-p", "--n-prompt"], value: "N", help: "prompt tokens for the prefill test; 0 = skip (default 512)"),
        Option(names: ["-n", "--n-gen"], value: "N", help: "tokens for the decode test; 0 = skip (default 128)"),
        Option(names: ["-r", "--repetitions"], value: "N", help: "repetitions of each test (default 3)"),
        Option(names: ["-t", "--threads"], value: "LIST", help: "thread counts, comma-separated (default: all cores)"),
        Option(names: ["--kernels"], value: nil, help: "time the sign-bit GEMV kernels on SmolLM2's shapes and 4096×4096"),
        CommonOptions.json, CommonOptions.kernel,
    ]

    static func run(_ args: ParsedArguments) throws {
        let threads = try (args.string("-t") ?? "\(System.coreCount)").split(separator: ",").map { s -> Int in
            guard let t = Int(s), (1...1024).contains(t) else { throw UsageError(description: "-t expects thread counts like 1,2; got '\(s)'") }
            return t
        }
        if args.flag("--kernels") {
            Output.write(KernelBenchmark.run(threads: threads.max() ?? 1, json: args.flag("--json")))
            return
        }
        let models = args.strings("-m")
        guard !models.isEmpty else { throw UsageError(description: "missing -m MODEL") }
        let p = try args.int("-p", default: 512, in: 0...1_000_000)
        let n = try args.int("-n", default: 128, in: 0...1_000_000)
        let reps = try args.int("-r", default: 3, in: 1...1000)
        var kernel = KernelVariant.best
        if let name = args.string("--kernel") {
            guard let k = KernelVariant(rawValue: name) else { throw UsageError(description: "unknown --kernel '\(name)'") }
            kernel = k
        }
        let json = args.flag("--json")
        if !json {
            Output.write("| model | size | bpw | threads | test | t/s | peak RSS |\n|---|---:|---:|---:|---|---:|---:|\n")
        }
        for name in models {
            System.resetPeakResident()
            let loaded = try LoadedModel.load(name, threads: threads[0], kernel: kernel)
            let label = URL(fileURLWithPath: loaded.path).lastPathComponent
            for t in threads {
                loaded.setThreads(t)
                var results: [Benchmark.Measurement] = []
                if p > 0 { results.append(try Benchmark.prefill(loaded.model, tokens: p, repetitions: reps)) }
                if n > 0 { results.append(try Benchmark.decode(loaded.model, tokens: n, repetitions: reps)) }
                let rss = System.peakResidentBytes()
                for m in results {
                    if json {
                        Output.json(["model": label, "path": loaded.path, "file_bytes": loaded.fileSize,
                                     "bits_per_weight": loaded.bitsPerWeight, "parameters": loaded.parameterCount,
                                     "threads": t, "test": m.test, "tokens_per_second": m.mean,
                                     "tokens_per_second_sd": m.standardDeviation, "samples": m.tokensPerSecond,
                                     "peak_rss_bytes": rss, "kernel": kernel.rawValue])
                    } else {
                        Output.write(String(format: "| %@ | %.1f MiB | %.2f | %d | %@ | %.2f ± %.2f | %.0f MiB |\n",
                                            label, Double(loaded.fileSize) / 1_048_576, loaded.bitsPerWeight, t, m.test,
                                            m.mean, m.standardDeviation, Double(rss) / 1_048_576))
                    }
                }
            }
        }
    }
}
