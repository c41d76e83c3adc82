/// Finds special tokens (control and user-defined) in raw text before the model sees it.
///
/// Like Hugging Face's added-token splitter, the scan takes the leftmost match and, there, the
/// longest token; the text between matches goes to the model. User-defined tokens are always
/// matched; control tokens only when the caller asks to parse special tokens.
struct SpecialTokenMatcher: Sendable {
    /// A piece of the input: either a special token or a run of ordinary text (a byte range).
    enum Segment: Equatable {
        case token(Int)
        case text(Range<Int>)
    }

    private struct Node: Sendable {
        var token: Int32 = -1        // token ending here, or -1
        var isControl = false
    }
    private var nodes: [Node] = [Node()]      // node 0 is the root
    private var edges: [UInt32: Int32] = [:]  // (node << 8 | byte) -> child node
    private var canStart = [Bool](repeating: false, count: 256)
    private(set) var isEmpty = true

    /// `tokens` are (id, text, isControl); empty texts are ignored.
    init(_ tokens: [(id: Int, text: String, isControl: Bool)]) {
        for (id, text, isControl) in tokens where !text.isEmpty {
            var node = 0
            for byte in text.utf8 {
                let key = UInt32(node) << 8 | UInt32(byte)
                if let child = edges[key] {
                    node = Int(child)
                } else {
                    nodes.append(Node())
                    edges[key] = Int32(nodes.count - 1)
                    node = nodes.count - 1
                }
            }
            // Two tokens with the same text: keep the first (lowest id).
            if nodes[node].token < 0 {
                nodes[node].token = Int32(id)
                nodes[node].isControl = isControl
            }
            canStart[Int(text.utf8.first!)] = true
            isEmpty = false
        }
    }

    /// Splits `bytes` into special tokens and the text between them.
    func split(_ bytes: UnsafeBufferPointer<UInt8>, includeControl: Bool) -> [Segment] {
        var segments: [Segment] = []
        var textStart = 0
        var i = 0
        while i < bytes.count {
            if canStart[Int(bytes[i])], let (id, length) = longestMatch(bytes, at: i, includeControl: includeControl) {
                if textStart < i { segments.append(.text(textStart..<i)) }
                segments.append(.token(id))
                i += length
                textStart = i
            } else {
                i += 1
            }
        }
        if textStart < bytes.count { segments.append(.text(textStart..<bytes.count)) }
        return segments
    }

    private func longestMatch(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int,
                              includeControl: Bool) -> (Int, Int)? {
        var node = 0
        var best: (Int, Int)?
        var i = start
        while i < bytes.count, let child = edges[UInt32(node) << 8 | UInt32(bytes[i])] {
            node = Int(child)
            i += 1
            let n = nodes[node]
            if n.token >= 0 && (includeControl || !n.isControl) { best = (Int(n.token), i - start) }
        }
        return best
    }
}
