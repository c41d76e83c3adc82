/// GPT-2 style byte-level BPE: a word's bytes start as one token each (spelled through
/// `ByteMapping`), then the adjacent pair with the best (lowest) merge rank is merged until no
/// pair has a rank, as Hugging Face's BPE model does.
struct ByteLevelBPE: Sendable {
    /// The token of each single byte, or -1 if the vocabulary lacks it.
    private let byteToken: [Int32]
    /// (left id << 32 | right id) -> (rank << 32 | merged id).
    private let merges: [UInt64: UInt64]
    /// Vocabulary strings (as stored, byte-mapped) -> id, for whole-word look-ups.
    private let tokenTable: ByteStringTable
    /// Llama 3 style: a word that is itself a token is not split (Hugging Face `ignore_merges`).
    private let ignoreMerges: Bool
    private let unkId: Int?

    init(_ vocab: TokenizerVocabulary, ignoreMerges: Bool) throws {
        let place = vocab.source ?? "the vocabulary"
        // Control tokens are never the result of merging text, so leave them out of the table.
        tokenTable = ByteStringTable(vocab.tokens.indices.lazy
            .filter { vocab.type(of: $0) != .control }
            .map { (Array(vocab.tokens[$0].utf8), Int32($0)) })
        byteToken = ByteMapping.scalarForByte.map { [tokenTable] scalar in
            tokenTable.lookup(Array(String(scalar).utf8)) ?? -1
        }
        guard let mergeList = vocab.merges else {
            throw TokenizerError.invalidVocabulary(place, "a byte-level BPE vocabulary without merges",
                                                   hint: "tokenizer.ggml.merges is missing from the file")
        }
        var merges: [UInt64: UInt64] = [:]
        merges.reserveCapacity(mergeList.count)
        for (rank, merge) in mergeList.enumerated() {
            let utf8 = Array(merge.utf8)
            guard let space = utf8.firstIndex(of: 0x20), space > 0, space < utf8.count - 1 else {
                throw TokenizerError.invalidVocabulary(place, "merge \(rank) \"\(merge)\" is not \"left right\"",
                                                       hint: "tokenizer.ggml.merges entries are two tokens joined by one space")
            }
            let left = Array(utf8[..<space]), right = Array(utf8[(space + 1)...])
            guard let l = tokenTable.lookup(left), let r = tokenTable.lookup(right),
                  let merged = tokenTable.lookup(left + right) else {
                throw TokenizerError.invalidVocabulary(place, "merge \(rank) \"\(merge)\" uses or makes a token not in the vocabulary",
                                                       hint: "the merges do not belong to these tokens")
            }
            let key = UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))
            if merges[key] == nil { merges[key] = UInt64(rank) << 32 | UInt64(UInt32(merged)) }
        }
        self.merges = merges
        self.ignoreMerges = ignoreMerges
        self.unkId = vocab.unkId
    }

    /// Per-call state: the words seen so far (text repeats words a lot) and scratch arrays.
    struct Session {
        var cache: [ArraySlice<UInt8>: [Int32]] = [:]
        var ids: [Int32] = []
        var next: [Int32] = [], prev: [Int32] = []
        var queue = PriorityQueue<Candidate>()
    }

    /// A possible merge of the symbols at `left` and `right`, valid while they still hold these ids.
    struct Candidate: Comparable {
        var rank: Int32, left: Int32, right: Int32, leftId: Int32, rightId: Int32, merged: Int32
        static func < (a: Candidate, b: Candidate) -> Bool {
            a.rank != b.rank ? a.rank < b.rank : a.left < b.left
        }
    }

    /// Appends the tokens of one pre-tokenized word (its raw bytes).
    func encodeWord(_ word: ArraySlice<UInt8>, into out: inout [Int], session: inout Session) {
        if word.count == 1 {
            appendByte(word.first!, into: &out)
            return
        }
        if let cached = session.cache[word] {
            for id in cached { out.append(Int(id)) }
            return
        }
        let ids = merge(word, session: &session)
        session.cache[word] = ids
        for id in ids { out.append(Int(id)) }
    }

    private func appendByte(_ byte: UInt8, into out: inout [Int]) {
        let id = byteToken[Int(byte)]
        if id >= 0 { out.append(Int(id)) } else if let unkId { out.append(unkId) }
    }

    private func mergeInfo(_ left: Int32, _ right: Int32) -> (rank: Int32, merged: Int32)? {
        guard let v = merges[UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))] else { return nil }
        return (Int32(truncatingIfNeeded: v >> 32), Int32(truncatingIfNeeded: v))
    }

    private func merge(_ word: ArraySlice<UInt8>, session s: inout Session) -> [Int32] {
        if ignoreMerges, let id = wholeWordToken(word) { return [id] }
        // Symbols form a linked list over positions; merging keeps the left position.
        s.ids.removeAll(keepingCapacity: true)
        for byte in word {
            let id = byteToken[Int(byte)]
            if id >= 0 { s.ids.append(id) } else if let unkId { s.ids.append(Int32(unkId)) }
        }
        let n = s.ids.count
        s.prev = (0..<Int32(n)).map { $0 - 1 }
        s.next = (0..<Int32(n)).map { $0 + 1 == n ? -1 : $0 + 1 }
        s.queue.removeAll()
        func consider(_ left: Int32, _ right: Int32, _ s: inout Session) {
            guard left >= 0, right >= 0, let m = mergeInfo(s.ids[Int(left)], s.ids[Int(right)]) else { return }
            s.queue.push(Candidate(rank: m.rank, left: left, right: right,
                                   leftId: s.ids[Int(left)], rightId: s.ids[Int(right)], merged: m.merged))
        }
        for i in 0..<max(n - 1, 0) { consider(Int32(i), Int32(i + 1), &s) }
        while let c = s.queue.pop() {
            let l = Int(c.left), r = Int(c.right)
            // Stale: a neighbour was merged away or changed since this candidate was queued.
            guard s.next[l] == c.right, s.ids[l] == c.leftId, s.ids[r] == c.rightId else { continue }
            s.ids[l] = c.merged
            s.ids[r] = -1
            let after = s.next[r]
            s.next[l] = after
            s.next[r] = -1
            if after >= 0 { s.prev[Int(after)] = c.left }
            consider(s.prev[l], c.left, &s)
            consider(c.left, after, &s)
        }
        var result: [Int32] = []
        var i: Int32 = n > 0 ? 0 : -1
        while i >= 0 { result.append(s.ids[Int(i)]); i = s.next[Int(i)] }
        return result
    }

    private func wholeWordToken(_ word: ArraySlice<UInt8>) -> Int32? {
        var spelled: [UInt8] = []
        for byte in word { spelled.append(contentsOf: String(ByteMapping.scalarForByte[Int(byte)]).utf8) }
        return spelled.withUnsafeBytes { tokenTable.lookup($0) }
    }
}
