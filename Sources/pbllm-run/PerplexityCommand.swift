import Foundation
import Runtime

/// `pbllm-run perplexity`: exp(mean negative log-likelihood) over windows of a text.
enum PerplexityCommand: Command {
    static let name = "perplexity"
    static let synopsis = "pbllm-run perplexity -m MODEL -f TEXTFILE [--ctx 2048] [--windows 16] [-t N] [--json]"
    static let summary = """
        Tokenizes the whole file (its bytes exactly, no special tokens), cuts it into
        non-overlapping windows of --ctx tokens, keeps the first --windows, and scores every
        position 1..ctx-1 of each window given the earlier tokens of that window.
        """
    static let options: [Option] = [
        CommonOptions.model,
        Option(names: ["-f", "--file"], value: "FILE", help: "the text to evaluate"),
        Option(names: ["--ctx", "-c"], value: "N", help: "tokens per window (default 2048)"),
        Option(names: ["--windows"], value: "N", help: "windows to score (default 16)"),
        CommonOptions.threads, CommonOptions.json, CommonOptions.dequantize, CommonOptions.kernel,
    ]

    static func run(_ args: ParsedArguments) throws {
        guard let path = args.string("-f") else { throw UsageError(description: "missing -f TEXTFILE") }
        let windows = try args.int("--windows", default: 16, in: 1...Int(Int32.max))
        let text = try readUTF8File(path)
        let loaded = try CommonOptions.loadModel(args)
        let ctx = try args.int("--ctx", default: 2048, in: 2...loaded.config.contextLength)
        let tokens = loaded.tokenizer.encode(text, addSpecial: false, parseSpecial: false)
        Output.log("perplexity: \(tokens.count) tokens, \(min(windows, tokens.count / ctx)) windows of \(ctx)")
        let started = Date()
        let result = try Perplexity.evaluate(model: loaded.model, tokens: tokens, contextLength: ctx,
                                             windows: windows) { done, total, ppl in
            let elapsed = Date().timeIntervalSince(started)
            let eta = elapsed / Double(done) * Double(total - done)
            Output.log(String(format: "[%d/%d] ppl so far %.4f, %.0f s elapsed, ETA %.0f s", done, total, ppl, elapsed, eta))
        }
        if args.flag("--json") {
            Output.json(["ppl": result.perplexity, "tokens_scored": result.tokensScored, "seconds": result.seconds,
                         "window_mean_nll": result.windowMeanNLL, "ctx": ctx, "windows": result.windowMeanNLL.count,
                         "model": loaded.path])
        } else {
            Output.write(String(format: "perplexity %.4f over %d tokens (%.1f s)\n",
                                result.perplexity, result.tokensScored, result.seconds))
        }
    }
}
