/// Why a vocabulary cannot be turned into a tokenizer.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// `tokenizer.ggml.model` names a kind this module does not implement.
    case unknownModel(String, source: String?)
    /// `tokenizer.ggml.pre` names a byte-level BPE word splitter this module does not implement.
    case unknownPreTokenizer(String, source: String?)
    /// The vocabulary is inconsistent: (where, what, hint).
    case invalidVocabulary(String, String, hint: String)

    public var description: String {
        switch self {
        case let .unknownModel(model, source):
            return "unknown tokenizer model \"\(model)\" in \(source ?? "the vocabulary")\n"
                + "HINT: tokenizer.ggml.model must be \"gpt2\" (byte-level BPE) or \"llama\" (SentencePiece)"
        case let .unknownPreTokenizer(pre, source):
            return "unknown pre-tokenizer \"\(pre)\" in \(source ?? "the vocabulary")\n"
                + "HINT: supported tokenizer.ggml.pre values: "
                + PreTokenizer.supportedNames.joined(separator: ", ")
        case let .invalidVocabulary(place, what, hint):
            return "invalid tokenizer vocabulary in \(place): \(what)\nHINT: \(hint)"
        }
    }
}
