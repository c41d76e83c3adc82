import Foundation
import Runtime
import TestSupport
import XCTest

/// The checks of a float model against its Hugging Face reference fixtures (logits-<model>.json,
/// ppl-<model>.json), in one place so every model is held to the same bar. Failures are reported
/// at the calling test's line.
enum ReferenceChecks {
    /// Below this top-1/top-2 margin float rounding may pick either token.
    static let nearTieMargin = 0.02
    static let logitRelativeTolerance = 1e-3
    static let perplexityRelativeTolerance = 0.005

    /// The prompts of the model's logits fixture.
    static func prompts(_ model: String) throws -> [[String: Any]] {
        let fixture = try Paths.json(Paths.reference("logits-\(model).json")) as! [String: Any]
        return fixture["prompts"] as! [[String: Any]]
    }

    /// Teacher-forced: the reference's tokens are fed back, so every step sees the same context.
    /// Checks the reference's top logits at every step that has them, and the greedy token up to
    /// the prompt's first near-tie. Returns the greedy steps compared and the largest relative
    /// difference of a top logit.
    @discardableResult
    static func checkTeacherForcedLogits(_ model: LanguageModel, prompt: [String: Any],
                                         file: StaticString = #filePath, line: UInt = #line) throws
        -> (compared: Int, worst: Double) {
        let name = prompt["id"] as! String
        let promptIds = prompt["prompt_ids"] as! [Int]
        let reference = prompt["generated_ids"] as! [Int]
        let margins = prompt["top1_top2_margin"] as! [Double]
        var top5: [Int: ([Int], [Double])] = [:]
        for case let s as [String: Any] in prompt["top5"] as! [Any] {
            top5[s["step"] as! Int] = (s["ids"] as! [Int], s["logits"] as! [Double])
        }
        let generator = Generator(model: model, contextLength: promptIds.count + reference.count)
        var logits = try generator.feed(promptIds)
        var compared = 0, worst = 0.0
        for (step, expected) in reference.enumerated() {
            if let (ids, values) = top5[step] {
                for (id, value) in zip(ids, values) {
                    worst = max(worst, abs(Double(logits[id]) - value) / max(abs(value), 1))
                    XCTAssertEqual(Double(logits[id]), value, accuracy: logitRelativeTolerance * max(abs(value), 1),
                                   "\(name) step \(step) token \(id)", file: file, line: line)
                }
            }
            if margins[step] < nearTieMargin { break }
            XCTAssertEqual(Sampler.argmax(logits, count: generator.vocabularySize), expected, "\(name) step \(step)",
                           file: file, line: line)
            compared += 1
            if step + 1 < reference.count { logits = try generator.feed([expected]) }
        }
        XCTAssertGreaterThan(compared, 0, name, file: file, line: line)
        return (compared, worst)
    }

    /// Free-running greedy generation (no teacher forcing) reproduces the reference continuation
    /// up to its first near-tie.
    static func checkGreedyContinuation(_ model: LanguageModel, prompt: [String: Any],
                                        file: StaticString = #filePath, line: UInt = #line) throws {
        let reference = prompt["generated_ids"] as! [Int]
        let margins = prompt["top1_top2_margin"] as! [Double]
        let trusted = margins.firstIndex { $0 < nearTieMargin } ?? reference.count
        var params = SamplingParameters(); params.temperature = 0
        var sampler = Sampler(params)
        let generator = Generator(model: model, contextLength: 256)
        var ids: [Int] = []
        _ = try generator.generate(prompt: prompt["prompt_ids"] as! [Int], maxTokens: reference.count,
                                   sampler: &sampler, isEnd: { _ in false }) { ids.append($0); return true }
        XCTAssertEqual(Array(ids.prefix(trusted)), Array(reference.prefix(trusted)), prompt["id"] as! String,
                       file: file, line: line)
    }

    /// WikiText-2 perplexity (protocol wt2-2048x16: 16 windows of 2048 tokens): the token count,
    /// the scored tokens, the perplexity and every window's mean NLL against the reference.
    static func checkWikiTextPerplexity(_ model: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Paths.json(Paths.reference("ppl-\(model).json")) as! [String: Any]
        let expected = fixture["ppl"] as! Double
        let loaded = try LoadedModel.load(Paths.model(model).path, threads: System.coreCount)
        let data = try Data(contentsOf: Paths.data("wikitext-2-raw-test.txt"))
        let tokens = loaded.tokenizer.encode(String(decoding: data, as: UTF8.self), parseSpecial: false)
        XCTAssertEqual(tokens.count, fixture["total_tokens"] as! Int, file: file, line: line)
        let result = try Perplexity.evaluate(model: loaded.model, tokens: tokens, contextLength: 2048, windows: 16)
        print("\(model) wt2-2048x16 ppl \(result.perplexity) (reference \(expected)) in \(result.seconds) s")
        XCTAssertEqual(result.tokensScored, 32_752, file: file, line: line)
        XCTAssertEqual(result.perplexity, expected, accuracy: expected * perplexityRelativeTolerance, file: file, line: line)
        let windowNLL = fixture["per_window_mean_nll"] as! [Double]
        for (ours, theirs) in zip(result.windowMeanNLL, windowNLL) {
            XCTAssertEqual(ours, theirs, accuracy: 0.01, file: file, line: line)
        }
    }
}
