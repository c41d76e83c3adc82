import Foundation
import Runtime
import TestSupport
import XCTest

/// WikiText-2 perplexity of the float model against the reference (protocol wt2-2048x16).
final class PerplexityTests: XCTestCase {
    func testSmolLM2WikiTextPerplexityMatchesReference() throws {
        try ReferenceChecks.checkWikiTextPerplexity("smollm2-135m")
    }

    func testTooShortTextIsAnError() throws {
        let loaded = try LoadedModel.load(Paths.model("smollm2-135m").path, threads: 1)
        XCTAssertThrowsError(try Perplexity.evaluate(model: loaded.model, tokens: [1, 2, 3], contextLength: 16, windows: 1))
    }
}
