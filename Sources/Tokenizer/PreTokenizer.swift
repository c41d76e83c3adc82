/// Splits text into the words that byte-level BPE encodes one by one.
///
/// Each kind is one of the regular expressions of Hugging Face tokenizers, matched by hand over
/// Unicode scalars (Swift `Regex` is far too slow for a megabyte of text). The character classes
/// follow the regex engine: \p{L} and \p{N} by general category, \s by the White_Space property.
public struct PreTokenizer: Sendable {
    enum Kind: Sendable, Equatable {
        /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
        case gpt2
        /// SmolLM: every \p{N} character is a word of its own, then the GPT-2 expression on the rest.
        case gpt2SplitDigits
        /// Llama 3 (maxDigits 3) and Qwen 2 (maxDigits 1):
        /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
        case llama3(maxDigits: Int)
    }

    /// `tokenizer.ggml.pre` names and what they mean here. "default" (and a missing name) is
    /// the GPT-2 expression, as in Hugging Face's ByteLevel pre-tokenizer.
    private static let kindsByName: [(String, Kind)] = [
        ("default", .gpt2), ("gpt2", .gpt2), ("gpt-2", .gpt2),
        ("smollm", .gpt2SplitDigits),
        ("llama-bpe", .llama3(maxDigits: 3)), ("llama3", .llama3(maxDigits: 3)),
        ("qwen2", .llama3(maxDigits: 1)),
    ]
    public static var supportedNames: [String] { kindsByName.map(\.0) }

    let kind: Kind

    init(kind: Kind) { self.kind = kind }

    public init(name: String?, source: String?) throws {
        guard let name else { self.init(kind: .gpt2); return }
        guard let kind = Self.kindsByName.first(where: { $0.0 == name })?.1 else {
            throw TokenizerError.unknownPreTokenizer(name, source: source)
        }
        self.init(kind: kind)
    }

    /// Calls `body` with the byte range of each word of `text`, in order; the words tile the text.
    public func split(_ text: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        let chars = ScalarString(text)
        let n = chars.count
        switch kind {
        case .gpt2:
            var i = 0
            while i < n {
                let end = chars.matchGPT2(at: i, limit: n)
                body(chars.offset(i)..<chars.offset(end))
                i = end
            }
        case .gpt2SplitDigits:
            // Digits first cut the text into pieces; the expression then runs inside each piece,
            // so its look-ahead sees a piece's end as the end of the text.
            var pieceStart = 0
            while pieceStart < n {
                var pieceEnd = pieceStart
                while pieceEnd < n && chars.classes[pieceEnd] != .number { pieceEnd += 1 }
                var i = pieceStart
                while i < pieceEnd {
                    let end = chars.matchGPT2(at: i, limit: pieceEnd)
                    body(chars.offset(i)..<chars.offset(end))
                    i = end
                }
                if pieceEnd < n { body(chars.offset(pieceEnd)..<chars.offset(pieceEnd + 1)) }
                pieceStart = pieceEnd + 1
            }
        case let .llama3(maxDigits):
            var i = 0
            while i < n {
                let end = chars.matchLlama3(at: i, maxDigits: maxDigits)
                body(chars.offset(i)..<chars.offset(end))
                i = end
            }
        }
    }
}

/// The character classes the expressions distinguish.
enum CharClass: UInt8 {
    case letter, number, whitespace, other

    private static let ascii: [CharClass] = (0..<128).map { v in
        switch UInt8(v) {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): return .letter
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        case 0x09...0x0D, 0x20: return .whitespace
        default: return .other
        }
    }

    init(_ scalar: Unicode.Scalar) {
        if scalar.value < 128 { self = Self.ascii[Int(scalar.value)]; return }
        let properties = scalar.properties
        if properties.isWhitespace { self = .whitespace; return }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            self = .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            self = .number
        default:
            self = .other
        }
    }
}

private let space: UInt32 = 0x20, apostrophe: UInt32 = 0x27

/// Text decoded once into scalars, their classes and their byte offsets, so the matchers can
/// look ahead and back by whole characters.
private struct ScalarString {
    var scalars: [UInt32] = []
    var classes: [CharClass] = []
    var offsets: [Int] = []       // byte offset of each scalar, plus the end

    init(_ text: UnsafeBufferPointer<UInt8>) {
        scalars.reserveCapacity(text.count)
        classes.reserveCapacity(text.count)
        offsets.reserveCapacity(text.count + 1)
        var offset = 0
        var iterator = text.makeIterator()
        var decoder = UTF8()
        // The input comes from a Swift String, so it is valid UTF-8.
        while case let .scalarValue(scalar) = decoder.decode(&iterator) {
            scalars.append(scalar.value)
            classes.append(CharClass(scalar))
            offsets.append(offset)
            offset += UTF8.width(scalar)
        }
        offsets.append(offset)
    }

    var count: Int { scalars.count }
    func offset(_ index: Int) -> Int { offsets[index] }

    private func isScalar(_ i: Int, _ limit: Int, _ value: UInt32) -> Bool {
        i < limit && scalars[i] == value
    }

    private func isLineBreak(_ i: Int, _ limit: Int) -> Bool {
        i < limit && (scalars[i] == 0x0A || scalars[i] == 0x0D)
    }

    /// End of the run of `cls` characters starting at `i`.
    private func run(of cls: CharClass, from i: Int, limit: Int) -> Int {
        var j = i
        while j < limit && classes[j] == cls { j += 1 }
        return j
    }

    /// `\s+(?!\S)|\s+` at `i`, where `i` is whitespace: a run of spaces leaves its last one to
    /// the word that follows it.
    private func matchWhitespace(at i: Int, limit: Int) -> Int {
        let end = run(of: .whitespace, from: i, limit: limit)
        if end == limit || end - i == 1 { return end }
        return end - 1
    }

    /// The end of the GPT-2 word starting at `i` (within `i..<limit`).
    func matchGPT2(at i: Int, limit: Int) -> Int {
        // 's 't 're 've 'm 'll 'd
        if isScalar(i, limit, apostrophe), let end = contraction(at: i, limit: limit, foldCase: false) {
            return end
        }
        // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional space, then a run of one class.
        let start = isScalar(i, limit, space) && i + 1 < limit ? i + 1 : i
        let cls = classes[start]
        if cls != .whitespace { return run(of: cls, from: start, limit: limit) }
        return matchWhitespace(at: i, limit: limit)
    }

    /// The end of the Llama 3 / Qwen 2 word starting at `i`.
    func matchLlama3(at i: Int, maxDigits: Int) -> Int {
        let limit = count
        // (?i:'s|'t|'re|'ve|'m|'ll|'d)
        if isScalar(i, limit, apostrophe), let end = contraction(at: i, limit: limit, foldCase: true) {
            return end
        }
        let cls = classes[i]
        let isNewline = isLineBreak(i, limit)
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if cls != .letter && cls != .number && !isNewline && i + 1 < limit && classes[i + 1] == .letter {
            return run(of: .letter, from: i + 1, limit: limit)
        }
        if cls == .letter { return run(of: .letter, from: i, limit: limit) }
        // \p{N}{1,maxDigits}
        if cls == .number { return min(run(of: .number, from: i, limit: limit), i + maxDigits) }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        let start = isScalar(i, limit, space) && i + 1 < limit ? i + 1 : i
        if classes[start] == .other {
            var end = run(of: .other, from: start, limit: limit)
            while isLineBreak(end, limit) { end += 1 }
            return end
        }
        // `\s*[\r\n]+`: whitespace up to and including the last line break of the run.
        let end = run(of: .whitespace, from: i, limit: limit)
        var lastBreak = -1
        for j in i..<end where isLineBreak(j, limit) { lastBreak = j }
        if lastBreak >= 0 { return lastBreak + 1 }
        return matchWhitespace(at: i, limit: limit)
    }

    /// The end of 's 't 're 've 'm 'll 'd after the apostrophe at `i`, if one follows.
    private func contraction(at i: Int, limit: Int, foldCase: Bool) -> Int? {
        func letter(_ j: Int) -> UInt32 {
            guard j < limit else { return 0 }
            let v = scalars[j]
            return foldCase && v >= 0x41 && v <= 0x5A ? v + 0x20 : v
        }
        switch (letter(i + 1), letter(i + 2)) {
        case (0x73, _), (0x74, _), (0x6D, _), (0x64, _): return i + 2              // s t m d
        case (0x72, 0x65), (0x76, 0x65), (0x6C, 0x6C): return i + 3               // re ve ll
        default: return nil
        }
    }
}
