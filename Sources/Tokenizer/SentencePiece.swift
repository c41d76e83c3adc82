/// SentencePiece BPE (model "llama"), as the sentencepiece library and llama.cpp encode:
/// spaces become "▁" (U+2581), the text starts as one symbol per character, and the adjacent
/// pair whose concatenation is the vocabulary piece with the highest score is merged (ties: the
/// leftmost) until no pair forms a piece. Characters no piece covers fall back to `<0xNN>`
/// byte tokens.
struct SentencePiece: Sendable {
    /// Pieces that merges may form (normal, user-defined and unused ones, as sentencepiece
    /// allows), by their UTF-8 text.
    private let pieceTable: ByteStringTable
    private let scores: [Float]
    /// Unused pieces may take part in merging but are split back into their halves at the end.
    private let unused: Set<Int32>
    /// The `<0xNN>` token of each byte, or -1.
    private let byteToken: [Int32]
    private let unkId: Int?

    init(_ vocab: TokenizerVocabulary) throws {
        let place = vocab.source ?? "the vocabulary"
        guard let scores = vocab.scores else {
            throw TokenizerError.invalidVocabulary(place, "a SentencePiece vocabulary without scores",
                                                   hint: "tokenizer.ggml.scores is missing from the file")
        }
        self.scores = scores
        var entries: [([UInt8], Int32)] = []
        entries.reserveCapacity(vocab.tokens.count)
        var unused = Set<Int32>()
        var byteToken = [Int32](repeating: -1, count: 256)
        for (id, token) in vocab.tokens.enumerated() {
            switch vocab.type(of: id) {
            case .normal, .userDefined:
                entries.append((Array(token.utf8), Int32(id)))
            case .unused:
                entries.append((Array(token.utf8), Int32(id)))
                unused.insert(Int32(id))
            case .byte:
                // "<0xNN>"
                let utf8 = Array(token.utf8)
                guard utf8.count == 6, let value = UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16) else {
                    throw TokenizerError.invalidVocabulary(place, "byte token \(id) is \"\(token)\", not <0xNN>",
                                                           hint: "token type 6 marks byte-fallback tokens")
                }
                if byteToken[Int(value)] < 0 { byteToken[Int(value)] = Int32(id) }
            case .control, .unknown:
                break
            }
        }
        pieceTable = ByteStringTable(entries)
        self.unused = unused
        self.byteToken = byteToken
        unkId = vocab.unkId
    }

    /// Scratch arrays reused across the segments of one `encode` call.
    struct Session {
        var text: [UInt8] = []
        var start: [Int32] = [], end: [Int32] = [], next: [Int32] = [], prev: [Int32] = []
        var queue = PriorityQueue<Candidate>()
        var splits: [UInt64: Int32] = [:]    // merged range of an unused piece -> where it was joined
    }

    /// A possible merge of the symbols at `left` and `right`; `length` (bytes of the pair) tells
    /// whether they still are the symbols it was made from.
    struct Candidate: Comparable {
        var score: Float, left: Int32, right: Int32, length: Int32
        /// "Smaller" is better: higher score first, then the leftmost.
        static func < (a: Candidate, b: Candidate) -> Bool {
            a.score != b.score ? a.score > b.score : a.left < b.left
        }
    }

    /// Appends the tokens of a run of ordinary text (no special tokens in it).
    func encode(_ raw: UnsafeBufferPointer<UInt8>, prependSpace: Bool, into out: inout [Int],
                session s: inout Session) {
        // Normalize: " " -> "▁" (E2 96 81), optionally one in front.
        s.text.removeAll(keepingCapacity: true)
        if prependSpace { s.text.append(contentsOf: [0xE2, 0x96, 0x81]) }
        for byte in raw {
            if byte == 0x20 { s.text.append(contentsOf: [0xE2, 0x96, 0x81]) } else { s.text.append(byte) }
        }
        // One symbol per character.
        s.start.removeAll(keepingCapacity: true)
        s.end.removeAll(keepingCapacity: true)
        var i = 0
        while i < s.text.count {
            s.start.append(Int32(i))
            i += Self.utf8Length(s.text[i])
            i = min(i, s.text.count)
            s.end.append(Int32(i))
        }
        let n = s.start.count
        s.prev = (0..<Int32(n)).map { $0 - 1 }
        s.next = (0..<Int32(n)).map { $0 + 1 == n ? -1 : $0 + 1 }
        s.queue.removeAll()
        s.splits.removeAll(keepingCapacity: true)

        s.text.withUnsafeBytes { text in
            func consider(_ left: Int32, _ right: Int32, _ s: inout Session) {
                guard left >= 0, right >= 0 else { return }
                let from = Int(s.start[Int(left)]), to = Int(s.end[Int(right)])
                guard let id = pieceTable.lookup(UnsafeRawBufferPointer(rebasing: text[from..<to])) else { return }
                s.queue.push(Candidate(score: scores[Int(id)], left: left, right: right, length: Int32(to - from)))
                if !unused.isEmpty && unused.contains(id) { s.splits[UInt64(from) << 32 | UInt64(to)] = s.start[Int(right)] }
            }
            for i in 0..<max(n - 1, 0) { consider(Int32(i), Int32(i + 1), &s) }
            while let c = s.queue.pop() {
                let l = Int(c.left), r = Int(c.right)
                guard s.next[l] == c.right, s.end[r] - s.start[l] == c.length else { continue }
                s.end[l] = s.end[r]
                let after = s.next[r]
                s.next[l] = after
                s.next[r] = -1
                s.start[r] = -1
                if after >= 0 { s.prev[Int(after)] = c.left }
                consider(s.prev[l], c.left, &s)
                consider(c.left, after, &s)
            }
            var sym: Int32 = n > 0 ? 0 : -1
            while sym >= 0 {
                emit(Int(s.start[Int(sym)])..<Int(s.end[Int(sym)]), text, s.splits, into: &out)
                sym = s.next[Int(sym)]
            }
        }
    }

    /// Emits the piece for `range`, splitting unused pieces into their halves and spelling
    /// characters without a piece as byte tokens.
    private func emit(_ range: Range<Int>, _ text: UnsafeRawBufferPointer, _ splits: [UInt64: Int32],
                      into out: inout [Int]) {
        if let id = pieceTable.lookup(UnsafeRawBufferPointer(rebasing: text[range])) {
            if !unused.contains(id) { out.append(Int(id)); return }
            if let split = splits[UInt64(range.lowerBound) << 32 | UInt64(range.upperBound)] {
                emit(range.lowerBound..<Int(split), text, splits, into: &out)
                emit(Int(split)..<range.upperBound, text, splits, into: &out)
                return
            }
        }
        if text[range].allSatisfy({ byteToken[Int($0)] >= 0 }) {
            for byte in text[range] { out.append(Int(byteToken[Int(byte)])) }
        } else if let unkId {
            out.append(unkId)
        }
    }

    /// Length of the UTF-8 sequence a lead byte starts (1 for a stray continuation byte).
    private static func utf8Length(_ lead: UInt8) -> Int {
        switch lead {
        case 0xF0...: return 4
        case 0xE0...: return 3
        case 0xC0...: return 2
        default: return 1
        }
    }
}
