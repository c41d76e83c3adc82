/// Everything a tokenizer needs, as a GGUF file stores it (`tokenizer.ggml.*`).
///
/// The Runtime fills this from a `GGUFFile`; the Tokenizer module itself reads no files.
public struct TokenizerVocabulary: Sendable {
    /// `tokenizer.ggml.model`: "gpt2" (byte-level BPE) or "llama" (SentencePiece).
    public var model: String
    /// `tokenizer.ggml.pre`: how byte-level BPE splits text into words ("smollm", "gpt2", "llama-bpe", ...).
    public var pre: String?
    public var tokens: [String]
    /// 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte (see `TokenType`).
    public var tokenTypes: [Int]?
    public var scores: [Float]?
    /// Byte-level BPE merges, highest priority first, each "left right".
    public var merges: [String]?
    public var bosId: Int?, eosId: Int?, unkId: Int?, padId: Int?
    /// `tokenizer.ggml.eot_token_id`: another token that ends a turn (optional).
    public var eotId: Int?
    public var addBos: Bool, addEos: Bool, addSpacePrefix: Bool
    /// Where the vocabulary came from (a file path), for error messages only.
    public var source: String?

    public init(model: String, pre: String? = nil, tokens: [String], tokenTypes: [Int]? = nil,
                scores: [Float]? = nil, merges: [String]? = nil,
                bosId: Int? = nil, eosId: Int? = nil, unkId: Int? = nil, padId: Int? = nil,
                addBos: Bool = false, addEos: Bool = false, addSpacePrefix: Bool = false,
                eotId: Int? = nil, source: String? = nil) {
        self.model = model
        self.pre = pre
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.scores = scores
        self.merges = merges
        self.bosId = bosId
        self.eosId = eosId
        self.unkId = unkId
        self.padId = padId
        self.eotId = eotId
        self.addBos = addBos
        self.addEos = addEos
        self.addSpacePrefix = addSpacePrefix
        self.source = source
    }
}

/// The token types of `tokenizer.ggml.token_type` (llama.cpp's numbering).
public enum TokenType: Int, Sendable {
    case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
}

extension TokenizerVocabulary {
    /// The type of token `id`; vocabularies without types are all normal.
    func type(of id: Int) -> TokenType {
        guard let types = tokenTypes, id < types.count else { return .normal }
        return TokenType(rawValue: types[id]) ?? .normal
    }

    /// Checks the sizes and ids that the tokenizers index with, so they never trap later.
    func validate() throws {
        let place = source ?? "the vocabulary"
        if tokens.isEmpty {
            throw TokenizerError.invalidVocabulary(place, "it has no tokens",
                                                   hint: "is tokenizer.ggml.tokens missing from the file?")
        }
        if let types = tokenTypes, types.count != tokens.count {
            throw TokenizerError.invalidVocabulary(
                place, "\(types.count) token types for \(tokens.count) tokens",
                hint: "tokenizer.ggml.token_type must have one entry per token")
        }
        if let scores, scores.count != tokens.count {
            throw TokenizerError.invalidVocabulary(
                place, "\(scores.count) scores for \(tokens.count) tokens",
                hint: "tokenizer.ggml.scores must have one entry per token")
        }
        for (name, id) in [("bos", bosId), ("eos", eosId), ("unknown", unkId), ("padding", padId), ("eot", eotId)] {
            if let id, id < 0 || id >= tokens.count {
                throw TokenizerError.invalidVocabulary(
                    place, "the \(name) token id \(id) is outside 0..<\(tokens.count)",
                    hint: "check tokenizer.ggml.\(name)_token_id")
            }
        }
    }
}
