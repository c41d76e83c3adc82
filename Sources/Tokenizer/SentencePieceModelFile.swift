/// A SentencePiece `tokenizer.model` (a serialized `sentencepiece.ModelProto`, as Hugging Face
/// checkpoints of Llama and Gemma ship it) read into the same `TokenizerVocabulary` a GGUF gives.
///
/// Only what tokenizing needs is read: the pieces (text, score, type), the trainer's model type
/// and special ids, and the normalizer's whitespace rules. Every length is checked against the
/// bytes left, so a truncated or corrupt file is an error, never a crash.
extension TokenizerVocabulary {
    /// `addBos`: whether encoding with special tokens starts with BOS; the model file does not say
    /// (Hugging Face keeps it in tokenizer_config.json), and Llama and Gemma both add it.
    public init(sentencePieceModel bytes: [UInt8], addBos: Bool = true, source: String? = nil) throws {
        let place = source ?? "the tokenizer.model"
        func invalid(_ what: String) -> TokenizerError {
            .invalidVocabulary(place, what, hint: "is it a SentencePiece tokenizer.model (sentencepiece.ModelProto)?")
        }
        var tokens: [String] = [], scores: [Float] = [], types: [Int] = []
        var trainer: [UInt64: ProtobufReader.Field] = [:], normalizer: [UInt64: ProtobufReader.Field] = [:]
        var top = ProtobufReader(bytes[...])
        while let (number, field) = try top.next(invalid) {
            switch (number, field) {
            case (1, .bytes(let message)):  // repeated SentencePiece pieces
                var piece = ProtobufReader(message)
                var text: String?, score: Float = 0, type = 1  // NORMAL unless the piece says otherwise
                while let (n, f) = try piece.next(invalid) {
                    switch (n, f) {
                    case (1, .bytes(let s)):
                        guard let t = String(validating: s, as: UTF8.self) else { throw invalid("piece \(tokens.count) is not UTF-8") }
                        text = t
                    case (2, .fixed32(let bits)): score = Float(bitPattern: bits)
                    case (3, .varint(let v)):
                        guard (1...6).contains(v) else { throw invalid("piece \(tokens.count) has unknown type \(v)") }
                        type = Int(v)
                    default: break
                    }
                }
                guard let text else { throw invalid("piece \(tokens.count) has no text") }
                tokens.append(text); scores.append(score); types.append(type)
            case (2, .bytes(let message)): trainer = try ProtobufReader.lastFields(of: message, invalid)
            case (3, .bytes(let message)): normalizer = try ProtobufReader.lastFields(of: message, invalid)
            default: break
            }
        }
        // TrainerSpec.model_type: 1 unigram, 2 BPE; both are scored pieces our SentencePiece encodes.
        let modelType = trainer[3]?.varint ?? 1
        guard modelType == 1 || modelType == 2 else {
            throw TokenizerError.invalidVocabulary(place, "SentencePiece model type \(modelType) (word or char) is not supported",
                                                   hint: "only unigram and BPE models are")
        }
        // NormalizerSpec: name, add_dummy_prefix (default true), remove_extra_whitespaces (default true).
        let normalizerName = normalizer[1]?.text ?? "identity"
        let removesExtraSpaces = normalizer[4]?.varint.map { $0 != 0 } ?? true
        guard normalizerName == "identity", !removesExtraSpaces else {
            throw TokenizerError.invalidVocabulary(
                place, "normalizer \"\(normalizerName)\"\(removesExtraSpaces ? " with remove_extra_whitespaces" : "") is not supported",
                hint: "only the identity normalizer (as Llama and Gemma use) is implemented")
        }
        // Special ids: unk 0, bos 1, eos 2, pad -1 unless the trainer says otherwise; -1 is "none".
        func id(_ field: UInt64, default value: Int) -> Int? {
            let raw = trainer[field]?.varint.map { Int(Int32(truncatingIfNeeded: $0)) } ?? value
            return raw < 0 ? nil : raw
        }
        self.init(model: "llama", tokens: tokens, tokenTypes: types, scores: scores,
                  bosId: id(41, default: 1), eosId: id(42, default: 2), unkId: id(40, default: 0), padId: id(43, default: -1),
                  addBos: addBos, addEos: false, addSpacePrefix: normalizer[3]?.varint.map { $0 != 0 } ?? true,
                  source: source)
        try validate()
    }
}

extension TokenizerVocabulary {
    /// This SentencePiece vocabulary as a `tokenizer.model`: the inverse of `init(sentencePieceModel:)`,
    /// for handing a GGUF's tokenizer to SentencePiece or Hugging Face tools.
    public func sentencePieceModel() -> [UInt8] {
        var model = ProtobufWriter()
        for (id, token) in tokens.enumerated() {
            var piece = ProtobufWriter()
            piece.bytes(1, Array(token.utf8))
            piece.fixed32(2, (scores?[id] ?? 0).bitPattern)
            piece.varint(3, UInt64(type(of: id).rawValue))
            model.bytes(1, piece.output)
        }
        var trainer = ProtobufWriter()
        trainer.varint(3, 2)  // BPE
        for (field, id) in [(40, unkId), (41, bosId), (42, eosId), (43, padId)] {
            trainer.varint(UInt64(field), UInt64(bitPattern: Int64(id ?? -1)))
        }
        model.bytes(2, trainer.output)
        var normalizer = ProtobufWriter()
        normalizer.bytes(1, Array("identity".utf8))
        normalizer.varint(3, addSpacePrefix ? 1 : 0)
        normalizer.varint(4, 0)
        model.bytes(3, normalizer.output)
        return model.output
    }
}

/// Protocol Buffers wire format, writing: the three field kinds a `tokenizer.model` uses.
struct ProtobufWriter {
    var output: [UInt8] = []

    mutating func varint(_ field: UInt64, _ value: UInt64) {
        append(field << 3)
        append(value)
    }

    mutating func fixed32(_ field: UInt64, _ value: UInt32) {
        append(field << 3 | 5)
        for i in 0..<4 { output.append(UInt8(truncatingIfNeeded: value >> (8 * i))) }
    }

    mutating func bytes(_ field: UInt64, _ value: [UInt8]) {
        append(field << 3 | 2)
        append(UInt64(value.count))
        output += value
    }

    private mutating func append(_ number: UInt64) {
        var v = number
        while v >= 0x80 { output.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        output.append(UInt8(v))
    }
}

/// Protocol Buffers wire format, reading: just enough to walk a message's fields.
struct ProtobufReader {
    enum Field {
        case varint(UInt64), fixed64(UInt64), bytes(ArraySlice<UInt8>), fixed32(UInt32)
        var varint: UInt64? { if case .varint(let v) = self { v } else { nil } }
        var text: String? { if case .bytes(let b) = self { String(validating: b, as: UTF8.self) } else { nil } }
    }

    private var bytes: ArraySlice<UInt8>
    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    /// The next (field number, value), or nil at the end of the message.
    mutating func next(_ invalid: (String) -> TokenizerError) throws -> (UInt64, Field)? {
        guard !bytes.isEmpty else { return nil }
        let at = bytes.startIndex
        let key = try varint(invalid)
        let number = key >> 3
        guard number > 0 else { throw invalid("field number 0 at byte \(at)") }
        switch key & 7 {
        case 0: return (number, .varint(try varint(invalid)))
        case 1: return (number, .fixed64(try fixed(8, invalid)))
        case 2:
            let length = try varint(invalid)
            guard length <= UInt64(bytes.count) else {
                throw invalid("a field at byte \(at) claims \(length) bytes, \(bytes.count) are left (truncated?)")
            }
            let value = bytes.prefix(Int(length))
            bytes = bytes.dropFirst(Int(length))
            return (number, .bytes(value))
        case 5: return (number, .fixed32(UInt32(try fixed(4, invalid))))
        default: throw invalid("unsupported wire type \(key & 7) at byte \(at)")
        }
    }

    /// The fields of a small message, the last value of each number winning (protobuf's rule).
    static func lastFields(of message: ArraySlice<UInt8>, _ invalid: (String) -> TokenizerError) throws -> [UInt64: Field] {
        var reader = ProtobufReader(message), fields: [UInt64: Field] = [:]
        while let (number, value) = try reader.next(invalid) { fields[number] = value }
        return fields
    }

    private mutating func varint(_ invalid: (String) -> TokenizerError) throws -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            guard let byte = bytes.popFirst() else { throw invalid("the file ends inside a number (truncated?)") }
            value |= UInt64(byte & 0x7F) << UInt64(shift)
            if byte < 0x80 { return value }
        }
        throw invalid("a number longer than 10 bytes")
    }

    private mutating func fixed(_ size: Int, _ invalid: (String) -> TokenizerError) throws -> UInt64 {
        guard bytes.count >= size else { throw invalid("the file ends inside a \(size * 8)-bit value (truncated?)") }
        var value: UInt64 = 0
        for (i, byte) in bytes.prefix(size).enumerated() { value |= UInt64(byte) << UInt64(8 * i) }
        bytes = bytes.dropFirst(size)
        return value
    }
}
