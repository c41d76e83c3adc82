import Runtime

/// `pbllm-run tokenize`: text to token ids.
enum TokenizeCommand: Command {
    static let name = "tokenize"
    static let synopsis = "pbllm-run tokenize -m MODEL [--json] [--add-special] (-f FILE | TEXT)"
    static let summary = """
        Prints the token ids of TEXT (or of FILE's bytes, exactly as they are), space-separated.
        Special-token strings become their ids; BOS/EOS are added only with --add-special.
        MODEL may also be a SentencePiece tokenizer.model file (as Hugging Face checkpoints ship).
        """
    static let options: [Option] = [
        CommonOptions.model,
        Option(names: ["-f", "--file"], value: "FILE", help: "tokenize the bytes of FILE"),
        Option(names: ["--add-special"], value: nil, help: "add BOS/EOS as the model's metadata asks"),
        Option(names: ["--no-parse-special"], value: nil, help: "treat special-token strings as plain text"),
        CommonOptions.json,
    ]

    static func run(_ args: ParsedArguments) throws {
        let text: String
        switch (args.string("-f"), args.positionals.count) {
        case (let f?, 0): text = try readUTF8File(f)
        case (nil, 1): text = args.positionals[0]
        case (nil, 0): throw UsageError(description: "give the text to tokenize, or -f FILE")
        default: throw UsageError(description: "give exactly one TEXT argument or -f FILE")
        }
        let tokenizer = try LoadedModel.loadTokenizer(try CommonOptions.modelName(args))
        let ids = tokenizer.encode(text, addSpecial: args.flag("--add-special"),
                                   parseSpecial: !args.flag("--no-parse-special"))
        if args.flag("--json") {
            Output.json(["ids": ids])
        } else {
            Output.write(ids.map(String.init).joined(separator: " ") + "\n")
        }
    }
}
