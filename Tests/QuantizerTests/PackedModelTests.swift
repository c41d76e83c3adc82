import Foundation
import Quantizer
import Runtime
import TestSupport
import XCTest

/// A converted SmolLM2 runs on the sign-bit kernels as it does dequantized to float: the kernels
/// add no error beyond activation quantization.
final class PackedModelTests: XCTestCase {
    static let relativePerplexityTolerance = 0.02

    func testPackedMatchesDequantizedOnRealText() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("pbllm-packed-\(UUID()).pbllm").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        var options = ConversionOptions()
        options.settings.gptq = false
        options.settings.lowFraction = 0.5  // a model that still predicts (RTN at 0.9 is noise)
        options.head = .q8
        _ = try Converter.convert(input: Paths.model("smollm2-135m").path, output: out, options: options,
                                  log: { _ in }, progress: { _ in })
        let packed = try LoadedModel.load(out, threads: 2)
        let reference = try LoadedModel.load(out, threads: 2, dequantize: true)
        let text = String(decoding: try Data(contentsOf: Paths.data("wikitext-2-raw-test.txt")).prefix(6000), as: UTF8.self)
        let tokens = packed.tokenizer.encode(text, parseSpecial: false)
        let a = try Perplexity.evaluate(model: packed.model, tokens: tokens, contextLength: 512, windows: 2)
        let b = try Perplexity.evaluate(model: reference.model, tokens: tokens, contextLength: 512, windows: 2)
        print("RTN xnor 0.5 q8 head, 2×512 tokens: packed ppl \(a.perplexity), dequantized \(b.perplexity)")
        XCTAssertEqual(a.perplexity, b.perplexity, accuracy: b.perplexity * Self.relativePerplexityTolerance)
    }
}
