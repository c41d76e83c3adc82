/// Text <-> token ids for the vocabulary of a GGUF model.
///
/// Encoding runs in stages: special tokens are cut out of the raw text first
/// (`SpecialTokenMatcher`), then each run of ordinary text goes through the model: byte-level BPE
/// (`PreTokenizer` + `ByteLevelBPE`) or SentencePiece (`SentencePiece`). Immutable after `init`
/// (each `encode` call keeps its own scratch state), so one tokenizer can serve many threads.
public final class Tokenizer: Sendable {
    private enum Model {
        case byteLevelBPE(ByteLevelBPE, PreTokenizer)
        case sentencePiece(SentencePiece)
    }

    private let vocab: TokenizerVocabulary
    private let model: Model
    private let specials: SpecialTokenMatcher
    /// The bytes each token stands for, all in one buffer: token i is pieceBytes[pieceStart[i]..<pieceStart[i+1]].
    private let pieceBytes: [UInt8]
    private let pieceStart: [Int]
    private let endOfGeneration: Set<Int>
    /// SentencePiece with a space prefix: decoding drops the space the encoder added in front.
    let stripsLeadingSpace: Bool

    /// Texts of the control tokens that end a turn in common chat formats.
    private static let endOfTurnTexts: Set<String> = [
        "<|im_end|>", "<end_of_turn>", "<|eot_id|>", "<|eom_id|>", "<|endoftext|>", "<|end|>", "</s>", "<eos>",
    ]

    public init(_ vocab: TokenizerVocabulary) throws {
        try vocab.validate()
        switch vocab.model {
        case "gpt2":
            let pre = try PreTokenizer(name: vocab.pre, source: vocab.source)
            let ignoreMerges = if case .llama3 = pre.kind { true } else { false }
            model = .byteLevelBPE(try ByteLevelBPE(vocab, ignoreMerges: ignoreMerges), pre)
        case "llama":
            model = .sentencePiece(try SentencePiece(vocab))
        default:
            throw TokenizerError.unknownModel(vocab.model, source: vocab.source)
        }
        self.vocab = vocab
        stripsLeadingSpace = vocab.model == "llama" && vocab.addSpacePrefix

        var specialTokens: [(id: Int, text: String, isControl: Bool)] = []
        var endOfGeneration = Set([vocab.eosId, vocab.eotId].compactMap { $0 })
        for (id, text) in vocab.tokens.enumerated() {
            switch vocab.type(of: id) {
            case .control:
                specialTokens.append((id, text, true))
                if Self.endOfTurnTexts.contains(text) { endOfGeneration.insert(id) }
            case .userDefined:
                specialTokens.append((id, text, false))
            default:
                break
            }
        }
        specials = SpecialTokenMatcher(specialTokens)
        self.endOfGeneration = endOfGeneration

        var bytes: [UInt8] = []
        var starts: [Int] = [0]
        bytes.reserveCapacity(vocab.tokens.count * 8)
        starts.reserveCapacity(vocab.tokens.count + 1)
        for id in vocab.tokens.indices {
            Self.appendBytes(of: id, vocab, into: &bytes)
            starts.append(bytes.count)
        }
        pieceBytes = bytes
        pieceStart = starts
    }

    /// What token `id` decodes to. Special and user-defined tokens are their text; byte-level
    /// BPE tokens are unspelled through `ByteMapping`; SentencePiece turns "▁" into spaces.
    private static func appendBytes(of id: Int, _ vocab: TokenizerVocabulary, into bytes: inout [UInt8]) {
        let text = vocab.tokens[id]
        let type = vocab.type(of: id)
        if type == .control || type == .userDefined {
            bytes.append(contentsOf: text.utf8)
        } else if vocab.model == "gpt2" {
            bytes.append(contentsOf: ByteMapping.bytes(ofToken: text) ?? Array(text.utf8))
        } else if type == .byte, let value = UInt8(text.dropFirst(3).prefix(2), radix: 16) {
            bytes.append(value)
        } else {
            for scalar in text.unicodeScalars {
                if scalar == "\u{2581}" {
                    bytes.append(0x20)
                } else {
                    UTF8.encode(scalar) { bytes.append($0) }
                }
            }
        }
    }

    public var vocabularySize: Int { vocab.tokens.count }
    public var bosId: Int? { vocab.bosId }
    public var eosId: Int? { vocab.eosId }
    public var unkId: Int? { vocab.unkId }
    public var padId: Int? { vocab.padId }
    public var addBos: Bool { vocab.addBos }
    public var addEos: Bool { vocab.addEos }
    /// "gpt2" or "llama".
    public var modelKind: String { vocab.model }

    /// The type of token `id` (nil if out of range).
    public func tokenType(_ id: Int) -> TokenType? {
        vocab.tokens.indices.contains(id) ? vocab.type(of: id) : nil
    }

    /// Encodes text; special-token strings (control tokens) become single ids when `parseSpecial`
    /// (user-defined tokens always do); `addSpecial` adds BOS/EOS only where the vocabulary says so.
    public func encode(_ text: String, addSpecial: Bool = false, parseSpecial: Bool = true) -> [Int] {
        var out: [Int] = []
        if addSpecial, vocab.addBos, let bos = vocab.bosId { out.append(bos) }
        let utf8 = Array(text.utf8)
        let segments: [SpecialTokenMatcher.Segment] = specials.isEmpty
            ? [.text(0..<utf8.count)]
            : utf8.withUnsafeBufferPointer { specials.split($0, includeControl: parseSpecial) }
        utf8.withUnsafeBufferPointer { buffer in
            switch model {
            case let .byteLevelBPE(bpe, pre):
                var session = ByteLevelBPE.Session()
                for segment in segments {
                    switch segment {
                    case let .token(id): out.append(id)
                    case let .text(range):
                        pre.split(UnsafeBufferPointer(rebasing: buffer[range])) { word in
                            let bytes = (range.lowerBound + word.lowerBound)..<(range.lowerBound + word.upperBound)
                            bpe.encodeWord(utf8[bytes], into: &out, session: &session)
                        }
                    }
                }
            case let .sentencePiece(spm):
                var session = SentencePiece.Session()
                for segment in segments {
                    switch segment {
                    case let .token(id): out.append(id)
                    case let .text(range):
                        // Only the text at the very start gets the space prefix (Hugging Face's "first").
                        let prefix = vocab.addSpacePrefix && range.lowerBound == 0
                        spm.encode(UnsafeBufferPointer(rebasing: buffer[range]), prependSpace: prefix,
                                   into: &out, session: &session)
                    }
                }
            }
        }
        if addSpecial, vocab.addEos, let eos = vocab.eosId { out.append(eos) }
        return out
    }

    /// Appends the bytes of token `id` (nothing for an id outside the vocabulary).
    func appendTokenBytes(_ id: Int, to bytes: inout [UInt8]) {
        guard id >= 0, id < vocab.tokens.count else { return }
        bytes.append(contentsOf: pieceBytes[pieceStart[id]..<pieceStart[id + 1]])
    }

    /// The bytes token `id` stands for (empty for an id outside the vocabulary).
    public func tokenBytes(_ id: Int) -> [UInt8] {
        guard id >= 0, id < vocab.tokens.count else { return [] }
        return Array(pieceBytes[pieceStart[id]..<pieceStart[id + 1]])
    }

    /// The raw vocabulary string of token `id` ("" outside the vocabulary).
    public func tokenString(_ id: Int) -> String {
        vocab.tokens.indices.contains(id) ? vocab.tokens[id] : ""
    }

    /// Decodes ids to text: the tokens' bytes joined, read as UTF-8 (invalid bytes become U+FFFD).
    public func decode(_ ids: [Int]) -> String {
        var bytes: [UInt8] = []
        for id in ids { appendTokenBytes(id, to: &bytes) }
        if stripsLeadingSpace, bytes.first == 0x20 { bytes.removeFirst() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// True for the tokens that end a reply: EOS, EOT, and end-of-turn control tokens
    /// (`<|im_end|>`, `<end_of_turn>`, `<|eot_id|>`, ...).
    public func isEndOfGeneration(_ id: Int) -> Bool {
        endOfGeneration.contains(id)
    }
}
