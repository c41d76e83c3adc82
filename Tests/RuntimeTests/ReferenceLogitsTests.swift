import Foundation
import Runtime
import TestSupport
import XCTest

/// The float runtime against the Hugging Face reference: the same prompt ids, the same greedy
/// tokens (up to the reference's own first near-tie), and the same top logits.
final class ReferenceLogitsTests: XCTestCase {
    func testSmolLM2MatchesReference() throws {
        let loaded = try LoadedModel.load(Paths.model("smollm2-135m").path, threads: 2)
        for prompt in try ReferenceChecks.prompts("smollm2-135m") {
            XCTAssertEqual(loaded.tokenizer.encode(prompt["text"] as! String, addSpecial: true),
                           prompt["prompt_ids"] as! [Int], prompt["id"] as! String)
            try ReferenceChecks.checkTeacherForcedLogits(loaded.model, prompt: prompt)
        }
    }

    /// Free-running greedy generation (no teacher forcing) reproduces the reference continuation.
    func testGreedyGenerationReproducesContinuation() throws {
        let loaded = try LoadedModel.load(Paths.model("smollm2-135m").path, threads: 2)
        try ReferenceChecks.checkGreedyContinuation(loaded.model, prompt: try ReferenceChecks.prompts("smollm2-135m")[0])
    }
}
