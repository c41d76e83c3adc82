import Foundation
import Runtime
import TestSupport
import XCTest

/// The float runtime against the Hugging Face reference: the same prompt ids, the same greedy
/// tokens (up to the reference's own first near-tie), and the same top logits.
final class ReferenceLogitsTests: XCTestCase {
    /// Below this top-1/top-2 margin float rounding may pick either token.
    static let nearTieMargin = 0.02
    static let logitRelativeTolerance = 1e-3

    func testSmolLM2MatchesReference() throws {
        let loaded = try LoadedModel.load(Paths.model("smollm2-135m").path, threads: 2)
        let fixture = try Paths.json(Paths.reference("logits-smollm2-135m.json")) as! [String: Any]
        for case let prompt as [String: Any] in fixture["prompts"] as! [Any] {
            let name = prompt["id"] as! String
            let promptIds = prompt["prompt_ids"] as! [Int]
            XCTAssertEqual(loaded.tokenizer.encode(prompt["text"] as! String, addSpecial: true), promptIds, name)

            let reference = prompt["generated_ids"] as! [Int]
            let margins = prompt["top1_top2_margin"] as! [Double]
            var top5: [Int: ([Int], [Double])] = [:]
            for case let s as [String: Any] in prompt["top5"] as! [Any] {
                top5[s["step"] as! Int] = (s["ids"] as! [Int], s["logits"] as! [Double])
            }
            // Teacher-forced: feed the reference's tokens so every step is compared on the same context.
            let generator = Generator(model: loaded.model, contextLength: promptIds.count + reference.count)
            var logits = try generator.feed(promptIds)
            var compared = 0
            for (step, expected) in reference.enumerated() {
                if let (ids, values) = top5[step] {
                    for (id, value) in zip(ids, values) {
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
        }
    }

    /// Free-running greedy generation (no teacher forcing) reproduces the reference continuation.
    func testGreedyGenerationReproducesContinuation() throws {
        let loaded = try LoadedModel.load(Paths.model("smollm2-135m").path, threads: 2)
        let fixture = try Paths.json(Paths.reference("logits-smollm2-135m.json")) as! [String: Any]
        let prompt = (fixture["prompts"] as! [[String: Any]])[0]
        let reference = prompt["generated_ids"] as! [Int]
        let margins = prompt["top1_top2_margin"] as! [Double]
        let trusted = margins.firstIndex { $0 < Self.nearTieMargin } ?? reference.count
        var params = SamplingParameters(); params.temperature = 0
        var sampler = Sampler(params)
        let generator = Generator(model: loaded.model, contextLength: 256)
        var ids: [Int] = []
        _ = try generator.generate(prompt: prompt["prompt_ids"] as! [Int], maxTokens: reference.count,
                                   sampler: &sampler, isEnd: { _ in false }) { ids.append($0); return true }
        XCTAssertEqual(Array(ids.prefix(trusted)), Array(reference.prefix(trusted)))
    }
}
