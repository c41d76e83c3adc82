import Foundation
import Runtime

/// `pbllm-run chat`: an interactive conversation in the terminal (or one turn per line of a pipe).
enum ChatCommand: Command {
    static let name = "chat"
    static let synopsis = "pbllm-run chat -m MODEL [-c CTX] [--system TEXT] [-n N] [sampling options]"
    static let summary = """
        Talks with a chat model using its own template, keeping the conversation in the KV cache.
        Commands: /reset (new conversation), /stats, /help. Ctrl-C stops a reply; Ctrl-C or Ctrl-D
        at an empty prompt quits. When stdin is not a terminal, each line is one user turn.
        """
    static let options: [Option] = [
        CommonOptions.model,
        Option(names: ["-c", "--ctx-size"], value: "N", help: "context size in tokens (default: min(4096, the model's))"),
        Option(names: ["--system"], value: "TEXT", help: "system prompt (default: the template's own, if any)"),
        Option(names: ["-n", "--n-predict"], value: "N", help: "most tokens per reply; -1 = until the turn ends (default -1)"),
        CommonOptions.threads, CommonOptions.dequantize, CommonOptions.kernel,
    ] + CommonOptions.sampling

    static func run(_ args: ParsedArguments) throws {
        let sampling = try CommonOptions.sampling(args)
        let maxReply = try args.int("-n", default: -1, in: -1...Int(Int32.max))
        let loaded = try CommonOptions.loadModel(args)
        let ctx = try args.int("-c", default: min(4096, loaded.config.contextLength), in: 16...loaded.config.contextLength)
        let session = try ChatSession(model: loaded, contextLength: ctx, system: args.string("--system"),
                                      sampling: sampling, maxReplyTokens: maxReply)
        let interactive = isatty(0) == 1
        if interactive {
            Output.log("chat with \(loaded.path) (\(ctx) tokens of context). /help for commands, Ctrl-D to quit.")
        }
        Interrupt.install()
        while true {
            if interactive { Output.write("> ") }
            Interrupt.state = .atPrompt
            guard let line = readLine(strippingNewline: true) else { break }  // Ctrl-D / end of input
            let input = line.trimmingCharacters(in: .whitespaces)
            if input.isEmpty { continue }
            switch input {
            case "/help":
                Output.write("/reset  start a new conversation\n/stats  context use and last reply's speed\n/help   this list\n")
                continue
            case "/reset":
                session.reset()
                Output.log("(conversation reset)")
                continue
            case "/stats":
                Output.write("context: \(session.tokensInContext)/\(session.contextLength) tokens\n" + (lastStats.map {
                    String(format: "last reply: %d tokens, prefill %.1f tokens/s, decode %.1f tokens/s\n",
                           $0.generatedTokens, $0.prefillTokensPerSecond, $0.decodeTokensPerSecond)
                } ?? ""))
                continue
            default: break
            }
            Interrupt.state = .replying
            let reply = try session.reply(to: line) { piece in
                Output.write(piece)
                return Interrupt.state != .interrupted
            }
            Output.write("\n")
            lastStats = reply.stats
            if reply.droppedTurns > 0 { Output.log("(context full: dropped the \(reply.droppedTurns) oldest turn(s))") }
            switch reply.stop {
            case .interrupted: Output.log("(reply stopped)")
            case .contextFull: Output.log("(context full: the reply was cut; /reset to start over)")
            default: break
            }
        }
        if interactive { Output.write("\n") }
    }

    nonisolated(unsafe) private static var lastStats: GenerationStats?
}

/// Ctrl-C: during a reply it stops the reply; at the prompt it quits.
enum Interrupt {
    enum State { case atPrompt, replying, interrupted }
    nonisolated(unsafe) static var state = State.atPrompt

    static func install() {
        signal(SIGINT) { _ in
            if Interrupt.state == .replying {
                Interrupt.state = .interrupted
            } else {
                _ = write(1, "\n", 1)
                _exit(0)
            }
        }
    }
}
