import Foundation
import Runtime
import TestSupport
import XCTest

/// Gemma 3 270M (float, from its GGUF) against the Hugging Face reference: the layer layout the
/// file describes, the prompt ids, greedy tokens up to the reference's first near-tie, the top
/// logits, and WikiText-2 perplexity (protocol wt2-2048x16).
final class Gemma3Tests: XCTestCase {
    private func prompts() throws -> [[String: Any]] { try ReferenceChecks.prompts("gemma3-270m") }

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
            let result = try ReferenceChecks.checkTeacherForcedLogits(loaded.model, prompt: prompt)
            worst = max(worst, result.worst)
            print("gemma3-270m \(prompt["id"] as! String): \(result.compared) greedy steps compared")
        }
        print("gemma3-270m top-5 logits: largest relative difference \(worst)")
    }

    /// Free-running greedy generation reproduces each continuation up to its first near-tie.
    func testGreedyGenerationReproducesContinuations() throws {
        let loaded = try LoadedModel.load(Paths.model("gemma3-270m").path, threads: 2)
        for prompt in try prompts() {
            try ReferenceChecks.checkGreedyContinuation(loaded.model, prompt: prompt)
        }
    }

    /// Windows of 2048 tokens cross the 512-token sliding window, so local layers are exercised.
    func testWikiTextPerplexityMatchesReference() throws {
        try ReferenceChecks.checkWikiTextPerplexity("gemma3-270m")
    }
}
