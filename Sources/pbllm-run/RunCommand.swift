import Foundation
import Runtime
import Tokenizer

/// `pbllm-run run`: stream a continuation of a prompt.
enum RunCommand: Command {
    static let name = "run"
    static let synopsis = "pbllm-run run -m MODEL -p PROMPT [-n N] [sampling options] [-t N] [-c CTX] [--json]"
    static let summary = """
        Generates a continuation of PROMPT and streams it to stdout. Special-token strings in the
        prompt (e.g. <|im_start|>) become their single tokens; BOS is added only if the model asks.
        """
    static let options: [Option] = [
        CommonOptions.model,
        Option(names: ["-p", "--prompt"], value: "TEXT", help: "the prompt"),
        Option(names: ["-f", "--file"], value: "FILE", help: "read the prompt from FILE"),
        Option(names: ["-n", "--n-predict"], value: "N", help: "tokens to generate; -1 = until end of text (default 128)"),
        Option(names: ["-c", "--ctx-size"], value: "N", help: "context size in tokens (default: min(4096, the model's))"),
        Option(names: ["-b", "--batch-size"], value: "N", help: "prompt tokens per forward pass (default 512)"),
        Option(names: ["--ignore-eos"], value: nil, help: "keep generating past end-of-text tokens"),
        CommonOptions.threads, CommonOptions.json, CommonOptions.dequantize, CommonOptions.kernel,
    ] + CommonOptions.sampling

    static func run(_ args: ParsedArguments) throws {
        let prompt: String
        switch (args.string("-p"), args.string("-f")) {
        case (let p?, nil): prompt = p
        case (nil, let f?): prompt = try readUTF8File(f)
        case (nil, nil): throw UsageError(description: "missing -p PROMPT (or -f FILE)")
        default: throw UsageError(description: "give either -p or -f, not both")
        }
        guard !prompt.isEmpty else { throw UsageError(description: "the prompt is empty") }
        let maxTokens = try args.int("-n", default: 128, in: -1...Int(Int32.max))
        var sampler = Sampler(try CommonOptions.sampling(args))
        let json = args.flag("--json")

        let loaded = try CommonOptions.loadModel(args)
        let ctx = try args.int("-c", default: min(4096, loaded.config.contextLength), in: 1...loaded.config.contextLength)
        let generator = Generator(model: loaded.model, contextLength: ctx,
                                  batchSize: try args.int("-b", default: 512, in: 1...Int(Int32.max)))
        let tokenizer = loaded.tokenizer
        let promptIds = tokenizer.encodePrompt(prompt)
        guard !promptIds.isEmpty else { throw UsageError(description: "the prompt encodes to no tokens") }
        guard promptIds.count < ctx else {
            throw UsageError(description: "the prompt has \(promptIds.count) tokens; the context holds \(ctx) (raise -c)")
        }

        var ids: [Int] = []
        var text = ""
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        let stats = try generator.generate(
            prompt: promptIds, maxTokens: maxTokens, sampler: &sampler,
            isEnd: tokenizer.isEndOfGeneration, ignoreEnd: args.flag("--ignore-eos")
        ) { id in
            ids.append(id)
            let piece = decoder.append(id)
            text += piece
            if !json { Output.write(piece) }
            return true
        }
        let tail = decoder.flush()
        text += tail
        if json {
            Output.json([
                "prompt_ids": promptIds, "ids": ids, "text": text, "seed": sampler.parameters.seed,
                "prompt_tokens": stats.promptTokens, "generated_tokens": stats.generatedTokens,
                "prefill_seconds": stats.prefillSeconds, "decode_seconds": stats.decodeSeconds,
                "prefill_tokens_per_second": stats.prefillTokensPerSecond,
                "decode_tokens_per_second": stats.decodeTokensPerSecond,
            ])
        } else {
            Output.write(tail + "\n")
        }
        Output.log(String(format: "prefill: %d tokens, %.1f tokens/s | decode: %d tokens, %.1f tokens/s | seed %llu",
                          stats.promptTokens, stats.prefillTokensPerSecond, stats.generatedTokens,
                          stats.decodeTokensPerSecond, sampler.parameters.seed))
    }
}
