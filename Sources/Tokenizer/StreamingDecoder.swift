/// Streams decoded text: append ids, get back only whole UTF-8 characters.
///
/// A byte-level token can end in the middle of a character (an emoji is often two or three
/// tokens), so the bytes of an unfinished character at the end are held back until the tokens
/// that finish it arrive. The pieces returned, joined, equal `tokenizer.decode(allIds)`.
public struct StreamingDecoder: Sendable {
    private let tokenizer: Tokenizer
    private var pending: [UInt8] = []
    private var atStart = true

    public init(tokenizer: Tokenizer) {
        self.tokenizer = tokenizer
    }

    /// The text that token `id` completes (often "" while a character is unfinished).
    public mutating func append(_ id: Int) -> String {
        tokenizer.appendTokenBytes(id, to: &pending)
        if atStart && !pending.isEmpty {
            atStart = false
            if tokenizer.stripsLeadingSpace && pending.first == 0x20 { pending.removeFirst() }
        }
        let keep = Self.unfinishedSuffixLength(pending)
        let ready = pending.count - keep
        guard ready > 0 else { return "" }
        let text = String(decoding: pending[..<ready], as: UTF8.self)
        pending.removeFirst(ready)
        return text
    }

    /// Whatever is still held back; an unfinished character becomes U+FFFD.
    public mutating func flush() -> String {
        let text = String(decoding: pending, as: UTF8.self)
        pending.removeAll()
        return text
    }

    /// How many bytes at the end of `bytes` begin a character that needs more bytes: a lead byte
    /// of an n-byte sequence followed by fewer than n - 1 continuation bytes.
    static func unfinishedSuffixLength(_ bytes: [UInt8]) -> Int {
        var continuations = 0
        var i = bytes.count - 1
        while i >= 0 && continuations < 3 {
            let byte = bytes[i]
            if byte & 0xC0 == 0x80 {
                continuations += 1
                i -= 1
                continue
            }
            let needed: Int
            switch byte {
            case 0xC2...0xDF: needed = 1
            case 0xE0...0xEF: needed = 2
            case 0xF0...0xF4: needed = 3
            default: return 0          // ASCII or a byte that never starts a sequence
            }
            return continuations < needed ? continuations + 1 : 0
        }
        return 0
    }
}
