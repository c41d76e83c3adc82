import Foundation

/// The turn format a chat model was trained on. The file's Jinja template is recognised by its
/// markers (we render the known families exactly rather than interpret arbitrary Jinja).
public enum ChatTemplate: Sendable, Equatable {
    /// <|im_start|>role\ncontent<|im_end|>\n — SmolLM2, Qwen, …; `defaultSystem` is the system
    /// prompt the template inserts when the conversation has none.
    case chatML(defaultSystem: String?)
    /// <start_of_turn>user\ncontent<end_of_turn>\n<start_of_turn>model\n — Gemma; a system prompt
    /// is folded into the first user turn.
    case gemma
    /// <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|> — Llama 3.
    case llama3

    public enum Failure: Error, CustomStringConvertible {
        case unsupported(String)
        case missing(architecture: String)
        public var description: String {
            switch self {
            case .unsupported(let t):
                "the model's chat template is not one pbllm can apply (ChatML, Gemma, Llama 3): \(t.prefix(160))…"
            case .missing(let arch):
                "the model file has no chat template and architecture '\(arch)' has no known default; use `run` with your own prompt format"
            }
        }
    }

    /// The template of a model, from its `tokenizer.chat_template` (or its architecture's default).
    public static func detect(template: String?, architecture: String) throws -> ChatTemplate {
        guard let t = template else {
            if architecture.hasPrefix("gemma") { return .gemma }
            throw Failure.missing(architecture: architecture)
        }
        if t.contains("<|im_start|>") {
            // The default system prompt, if the template writes one literally.
            let marker = "<|im_start|>system\n"
            var system: String? = nil
            if let start = t.range(of: marker), let end = t.range(of: "<|im_end|>", range: start.upperBound..<t.endIndex) {
                let literal = String(t[start.upperBound..<end.lowerBound])
                if !literal.contains("{{") && !literal.contains("'") && !literal.contains("+") { system = literal }
            }
            return .chatML(defaultSystem: system)
        }
        if t.contains("<start_of_turn>") { return .gemma }
        if t.contains("<|start_header_id|>") { return .llama3 }
        throw Failure.unsupported(t)
    }

    /// The text that opens a conversation (system prompt), before the first user turn.
    public func opening(system: String?, bos: String?) -> String {
        switch self {
        case .chatML(let fallback):
            return (system ?? fallback).map { "<|im_start|>system\n\($0)<|im_end|>\n" } ?? ""
        case .gemma:
            return bos ?? ""
        case .llama3:
            return (bos ?? "") + (system.map { "<|start_header_id|>system<|end_header_id|>\n\n\($0)<|eot_id|>" } ?? "")
        }
    }

    /// One user turn followed by the cue for the assistant's reply.
    public func userTurn(_ text: String, system: String?, isFirst: Bool) -> String {
        switch self {
        case .chatML:
            return "<|im_start|>user\n\(text)<|im_end|>\n<|im_start|>assistant\n"
        case .gemma:
            let content = isFirst && system != nil ? "\(system!)\n\n\(text)" : text
            return "<start_of_turn>user\n\(content)<end_of_turn>\n<start_of_turn>model\n"
        case .llama3:
            return "<|start_header_id|>user<|end_header_id|>\n\n\(text)<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
        }
    }

    /// What closes an assistant reply in the template (generation stops at its first token,
    /// which is therefore not yet in the context).
    public var replyEnd: String {
        switch self {
        case .chatML: "<|im_end|>\n"
        case .gemma: "<end_of_turn>\n"
        case .llama3: "<|eot_id|>"
        }
    }

    /// The whole conversation as the template renders it, ending with the cue for a reply.
    public func render(system: String?, bos: String?, turns: [(user: String, reply: String?)]) -> String {
        var text = opening(system: system, bos: bos)
        for (i, turn) in turns.enumerated() {
            text += userTurn(turn.user, system: system, isFirst: i == 0)
            if let reply = turn.reply { text += reply + replyEnd }
        }
        return text
    }
}
