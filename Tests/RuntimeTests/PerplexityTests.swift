import Foundation
import Runtime
import TestSupport
import XCTest

/// WikiText-2 perplexity of the float model against the reference (protocol wt2-2048x16).
final class PerplexityTests: XCTestCase {
    static let relativeTolerance = 0.005

    func testSmolLM2WikiTextPerplexityMatchesReference() throws {
        let fixture = try Paths.json(Paths.reference("ppl-smollm2-135m.json")) as! [String: Any]
        let expected = fixture["ppl"] as! Double
        let loaded = try LoadedModel.load(Paths.model("smollm2-135m").path, threads: System.coreCount)
        let data = try Data(contentsOf: Paths.data("wikitext-2-raw-test.txt"))
        let tokens = loaded.tokenizer.encode(String(decoding: data, as: UTF8.self), parseSpecial: false)
        XCTAssertEqual(tokens.count, fixture["total_tokens"] as! Int)
        let result = try Perplexity.evaluate(model: loaded.model, tokens: tokens, contextLength: 2048, windows: 16)
        print("smollm2-135m wt2-2048x16 ppl \(result.perplexity) (reference \(expected)) in \(result.seconds) s")
        XCTAssertEqual(result.tokensScored, 32_752)
        XCTAssertEqual(result.perplexity, expected, accuracy: expected * Self.relativeTolerance)
        let windowNLL = fixture["per_window_mean_nll"] as! [Double]
        for (ours, theirs) in zip(result.windowMeanNLL, windowNLL) { XCTAssertEqual(ours, theirs, accuracy: 0.01) }
    }

    func testTooShortTextIsAnError() throws {
        let loaded = try LoadedModel.load(Paths.model("smollm2-135m").path, threads: 1)
        XCTAssertThrowsError(try Perplexity.evaluate(model: loaded.model, tokens: [1, 2, 3], contextLength: 16, windows: 1))
    }
}
