import Foundation
import Runtime
import TestSupport
import XCTest

/// Gemma 3 270M (float, from its GGUF) against the Hugging Face reference: the layer layout the
/// file describes, the prompt ids, greedy tokens up to the reference's first near-tie, the top
/// logits, and WikiText-2 perplexity (protocol wt2-2048x16).
final class Gemma3Tests: XCTestCase {
    static let nearTieMargin = ReferenceLogitsTests.nearTieMargin
    static let logitRelativeTolerance = ReferenceLogitsTests.logitRelativeTolerance
    static let perplexityRelativeTolerance = PerplexityTests.relativeTolerance

    private func prompts() throws -> [[String: Any]] {
        let fixture = try Paths.json(Paths.reference("logits-gemma3-270m.json")) as! [String: Any]
        return fixture["prompts"] as! [[String: Any]]
    }

    /// Five local layers (window 512, RoPE base 10 000) then one global (base 10⁶), NeoX pairing.
    func testLayerLayoutFromMetadata() throws {
        let loaded = try LoadedModel.load(Paths.model("gemma3-270m").path, threads: 2)
        let c = loaded.config
        XCTAssertEqual(c.architecture, "gemma3")
        XCTAssertEqual([c.dim, c.layerCount, c.headCount, c.kvHeadCount, c.headDim, c.ffnDim, c.vocabularySize],
                       [640, 18, 4, 1, 256, 2048, 262_144])
        let global: Set = [5, 11, 17]
        for l in 0..<c.layerCount {
            XCTAssertEqual(c.slidingWindow[l], global.contains(l) ? nil : 512, "layer \(l)")
            XCTAssertEqual(c.layerRope[l].base, global.contains(l) ? 1_000_000 : 10_000, "layer \(l)")
            XCTAssertEqual(c.layerRope[l].pairing, .halves)
            XCTAssertEqual(c.layerRope[l].dimensions, 256)
        }
    }

    /// Prompts start with a literal "<bos>", parsed as the special token (no BOS added on top).
    func testTokenizerReproducesPromptIds() throws {
        let tokenizer = try LoadedModel.loadTokenizer(Paths.model("gemma3-270m").path)
        for prompt in try prompts() {
            XCTAssertEqual(tokenizer.encode(prompt["text"] as! String, addSpecial: false),
                           prompt["prompt_ids"] as! [Int], prompt["id"] as! String)
        }
    }

    /// Teacher-forced: the reference's tokens are fed back, so every step sees the same context.
    func testMatchesReferenceLogits() throws {
        let loaded = try LoadedModel.load(Paths.model("gemma3-270m").path, threads: 2)
        var worst = 0.0
        for prompt in try prompts() {
            let name = prompt["id"] as! String
            let promptIds = prompt["prompt_ids"] as! [Int]
            let reference = prompt["generated_ids"] as! [Int]
            let margins = prompt["top1_top2_margin"] as! [Double]
            var top5: [Int: ([Int], [Double])] = [:]
            for case let s as [String: Any] in prompt["top5"] as! [Any] {
                top5[s["step"] as! Int] = (s["ids"] as! [Int], s["logits"] as! [Double])
            }
            let generator = Generator(model: loaded.model, contextLength: promptIds.count + reference.count)
            var logits = try generator.feed(promptIds)
            var compared = 0
            for (step, expected) in reference.enumerated() {
                if let (ids, values) = top5[step] {
                    for (id, value) in zip(ids, values) {
                        worst = max(worst, abs(Double(logits[id]) - value) / max(abs(value), 1))
                        XCTAssertEqual(Double(logits[id]), value,
                                       accuracy: Self.logitRelativeTolerance * max(abs(value), 1),
                                       "\(name) step \(step) token \(id)")
                    }
                }
                if margins[step] < Self.nearTieMargin { break }
                XCTAssertEqual(Sampler.argmax(logits, count: generator.vocabularySize), expected, "\(name) step \(step)")
                compared += 1
                if step + 1 < reference.count { logits = try generator.feed([expected]) }
            }
            XCTAssertGreaterThan(compared, 0, name)
            print("gemma3-270m \(name): \(compared) greedy steps compared")
        }
        print("gemma3-270m top-5 logits: largest relative difference \(worst)")
    }

    /// Free-running greedy generation reproduces each continuation up to its first near-tie.
    func testGreedyGenerationReproducesContinuations() throws {
        let loaded = try LoadedModel.load(Paths.model("gemma3-270m").path, threads: 2)
        for prompt in try prompts() {
            let reference = prompt["generated_ids"] as! [Int]
            let margins = prompt["top1_top2_margin"] as! [Double]
            let trusted = margins.firstIndex { $0 < Self.nearTieMargin } ?? reference.count
            var params = SamplingParameters(); params.temperature = 0
            var sampler = Sampler(params)
            let generator = Generator(model: loaded.model, contextLength: 256)
            var ids: [Int] = []
            _ = try generator.generate(prompt: prompt["prompt_ids"] as! [Int], maxTokens: reference.count,
                                       sampler: &sampler, isEnd: { _ in false }) { ids.append($0); return true }
            XCTAssertEqual(Array(ids.prefix(trusted)), Array(reference.prefix(trusted)), prompt["id"] as! String)
        }
    }

    /// Windows of 2048 tokens cross the 512-token sliding window, so local layers are exercised.
    func testWikiTextPerplexityMatchesReference() throws {
        let fixture = try Paths.json(Paths.reference("ppl-gemma3-270m.json")) as! [String: Any]
        let expected = fixture["ppl"] as! Double
        let loaded = try LoadedModel.load(Paths.model("gemma3-270m").path, threads: System.coreCount)
        let data = try Data(contentsOf: Paths.data("wikitext-2-raw-test.txt"))
        let tokens = loaded.tokenizer.encode(String(decoding: data, as: UTF8.self), parseSpecial: false)
        XCTAssertEqual(tokens.count, fixture["total_tokens"] as! Int)
        let result = try Perplexity.evaluate(model: loaded.model, tokens: tokens, contextLength: 2048, windows: 16)
        print("gemma3-270m wt2-2048x16 ppl \(result.perplexity) (reference \(expected)) in \(result.seconds) s")
        XCTAssertEqual(result.tokensScored, 32_752)
        XCTAssertEqual(result.perplexity, expected, accuracy: expected * Self.perplexityRelativeTolerance)
        let windowNLL = fixture["per_window_mean_nll"] as! [Double]
        for (ours, theirs) in zip(result.windowMeanNLL, windowNLL) { XCTAssertEqual(ours, theirs, accuracy: 0.01) }
    }
}
