import Foundation
import Tokenizer

/// A conversation kept in the KV cache across turns: each turn prefills only its own tokens.
/// When the context would overflow, the oldest turns are dropped and the rest re-prefilled.
public final class ChatSession {
    public struct Reply: Sendable {
        public var text: String
        public var ids: [Int]
        public var stats: GenerationStats
        /// Why generation stopped.
        public var stop: Stop
        /// Turns dropped from the start of the conversation to make room for this one.
        public var droppedTurns: Int
    }

    public enum Stop: String, Sendable { case endOfTurn, interrupted, contextFull, maxTokens }

    public let template: ChatTemplate
    public let system: String?
    let generator: Generator
    let tokenizer: Tokenizer
    var sampler: Sampler
    private var turns: [(user: String, reply: String?)] = []
    /// Whether the last reply's closing tokens still have to be fed (generation stops before them).
    private var replyOpen = false
    public let maxReplyTokens: Int

    public init(model: LoadedModel, contextLength: Int, system: String?, sampling: SamplingParameters,
                maxReplyTokens: Int = -1) throws {
        template = try ChatTemplate.detect(template: model.chatTemplate, architecture: model.config.architecture)
        self.system = system
        tokenizer = model.tokenizer
        generator = Generator(model: model.model, contextLength: contextLength)
        sampler = Sampler(sampling)
        self.maxReplyTokens = maxReplyTokens
    }

    public var tokensInContext: Int { generator.cache.count }
    public var contextLength: Int { generator.capacity }

    private var bosText: String? { tokenizer.bosId.map { tokenizer.tokenString($0) } }

    public func reset() {
        turns.removeAll()
        replyOpen = false
        generator.rewind(to: 0)
    }

    /// Answers `user`, streaming each piece of text (whole UTF-8 characters) to `onPiece`, which
    /// may return false to stop the reply early (Ctrl-C).
    public func reply(to user: String, onPiece: (String) -> Bool) throws -> Reply {
        guard !user.isEmpty else { throw RuntimeError.invalidArgument("empty message") }
        var pending = (replyOpen ? template.replyEnd : "")
            + (turns.isEmpty ? template.opening(system: system, bos: bosText) : "")
            + template.userTurn(user, system: system, isFirst: turns.isEmpty)
        var ids = tokenizer.encode(pending, addSpecial: false, parseSpecial: true)
        var dropped = 0
        // Leave room for a reply of at least a quarter of the context.
        let budget = generator.capacity - generator.capacity / 4
        if generator.cache.count + ids.count > budget {
            // Drop the oldest turns until the rest plus this one fit, then prefill them afresh.
            var kept = turns
            repeat {
                if !kept.isEmpty { kept.removeFirst(); dropped += 1 }
                pending = template.render(system: system, bos: bosText, turns: kept + [(user, nil)])
                ids = tokenizer.encode(pending, addSpecial: false, parseSpecial: true)
            } while ids.count > budget && !kept.isEmpty
            guard ids.count <= budget else {
                throw RuntimeError.contextFull(needed: ids.count + generator.capacity / 4, capacity: generator.capacity)
            }
            turns = kept
            generator.rewind(to: 0)
        }

        var replyIds: [Int] = []
        var text = ""
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        var interrupted = false
        let room = generator.capacity - generator.cache.count - ids.count
        let limit = maxReplyTokens < 0 ? room : min(room, maxReplyTokens)
        var sawEnd = false
        let stats = try generator.generate(prompt: ids, maxTokens: limit, sampler: &sampler,
                                           isEnd: { [tokenizer] id in
                                               let end = tokenizer.isEndOfGeneration(id)
                                               if end { sawEnd = true }
                                               return end
                                           }) { id in
            replyIds.append(id)
            let piece = decoder.append(id)
            text += piece
            if !onPiece(piece) { interrupted = true; return false }
            return true
        }
        let tail = decoder.flush()
        text += tail
        if !tail.isEmpty { _ = onPiece(tail) }
        turns.append((user, text))
        replyOpen = true
        let stop: Stop = sawEnd ? .endOfTurn : interrupted ? .interrupted
            : generator.cache.count >= generator.capacity - 1 ? .contextFull : .maxTokens
        return Reply(text: text, ids: replyIds, stats: stats, stop: stop, droppedTurns: dropped)
    }
}
