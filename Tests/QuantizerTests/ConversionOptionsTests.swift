import Foundation
import PBFormat
import Quantizer
import Runtime
import TestSupport
import XCTest

/// Every quantization method and layer-selection option of `convert`, on the first decoder layers
/// of the real SmolLM2 with a small calibration set (to stay quick), each result loaded and run.
final class ConversionOptionsTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("pbllm-options-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// Converts with `configure` applied to small-calibration defaults; returns the opened file.
    func convert(_ name: String, _ configure: (inout ConversionOptions) -> Void) throws -> (PBFile, ConversionReport) {
        var o = ConversionOptions()
        o.calibrationFile = Paths.data("calibration-groups-merged.txt").path
        o.samples = 2
        o.sequenceLength = 64
        o.maxLayer = 1
        configure(&o)
        let out = dir.appendingPathComponent("\(name).pbllm").path
        let report = try Converter.convert(input: Paths.model("smollm2-135m").path, output: out, options: o,
                                           log: { _ in }, progress: { _ in })
        // Loads and predicts: finite logits for a short prompt.
        let model = try LoadedModel.load(out, threads: 2)
        let generator = Generator(model: model.model, contextLength: 16)
        let logits = try generator.feed(model.tokenizer.encode("The capital of France is"))
        XCTAssertTrue((0..<model.config.vocabularySize).allSatisfy { logits[$0].isFinite }, name)
        return (try PBFile(path: out), report)
    }

    func testEveryMethodConvertsAndRuns() throws {
        for method in QuantSettings.Method.allCases {
            let (file, report) = try convert("m-\(method.rawValue)") { $0.settings.method = method }
            let q = file.tensor(named: "blk.0.attn_q.weight")!
            XCTAssertEqual(q.encoding, method == .xnor || method == .sign ? .pbz : .f32, method.rawValue)
            if q.encoding == .f32 { XCTAssertNotNil(q.note, "inspect must say why \(method.rawValue) is stored in float") }
            XCTAssertEqual(report.layers.count, 7, "one decoder layer: 7 linear layers")
            XCTAssertEqual(file.tensor(named: "blk.1.attn_q.weight")!.encoding, .f16, "layer 1 is outside --max-layer 1: kept in float16")
            if method == .prune {
                let values = try file.floats(q)
                let zeros = values.filter { $0 == 0 }.count
                XCTAssertGreaterThanOrEqual(Double(zeros) / Double(values.count), 0.89, "prune zeroes the non-salient 90%")
            }
        }
    }

    func testSaliencyGroupsRoundToNearestAndSelection() throws {
        // Hessian saliency, high_bit 4, groups of 128 columns (stored dequantized: one scale per row is the packed form).
        var (file, _) = try convert("hessian-g128") { $0.settings.salient = .hessian; $0.settings.highBit = 4; $0.settings.groupSize = 128 }
        XCTAssertEqual(file.tensor(named: "blk.0.ffn_down.weight")!.encoding, .f32)
        (file, _) = try convert("hessian-4bit") { $0.settings.salient = .hessian; $0.settings.highBit = 4 }
        XCTAssertEqual(file.tensor(named: "blk.0.ffn_down.weight")!.highBit, 4)
        let settings = file.metadata["pbllm.quant.settings"]?.string ?? ""
        XCTAssertTrue(settings.contains("\"calibration_sha256\""), settings)
        XCTAssertTrue(settings.contains("\"salient\":\"hessian\""), settings)

        // --only and --invert pick complementary layers.
        (file, _) = try convert("only") { $0.only = ["attn_q", "ffn_down"] }
        XCTAssertEqual(file.tensors.filter { $0.encoding.isPB }.map(\.name).sorted(),
                       ["blk.0.attn_q.weight", "blk.0.ffn_down.weight"])
        (file, _) = try convert("invert") { $0.only = ["attn_q", "ffn_down"]; $0.invert = true; $0.settings.gptq = false }
        let inverted = Set(file.tensors.filter { $0.encoding.isPB }.map(\.name))
        XCTAssertFalse(inverted.contains("blk.0.attn_q.weight"))
        XCTAssertTrue(inverted.contains("blk.0.attn_k.weight"))
        XCTAssertTrue(inverted.contains("blk.29.ffn_down.weight"), "invert also takes the layers outside --max-layer")
    }

    /// With `--head q8` the embeddings stay 8-bit and are expanded row by row at lookup: exactly
    /// the floats the dequantized load builds for the whole table.
    func testQ8EmbeddingsLookedUpInPlaceEqualTheDequantizedTable() throws {
        _ = try convert("q8-head") { $0.head = .q8; $0.settings.gptq = false; $0.settings.salient = .magnitude }
        let path = dir.appendingPathComponent("q8-head.pbllm").path
        XCTAssertEqual(try PBFile(path: path).tensor(named: "token_embd.weight")?.encoding, .q8)
        let packed = try LoadedModel.load(path, threads: 1), floats = try LoadedModel.load(path, threads: 1, dequantize: true)
        let tokens = [0, 1, 17, 4242, packed.config.vocabularySize - 1, 17]
        let d = packed.config.dim
        var a = [Float](repeating: .nan, count: tokens.count * d), b = a
        a.withUnsafeMutableBufferPointer { packed.model.embed(tokens, into: $0.baseAddress!) }
        b.withUnsafeMutableBufferPointer { floats.model.embed(tokens, into: $0.baseAddress!) }
        XCTAssertEqual(a, b)
        XCTAssertTrue(a.contains { $0 != 0 })
    }

    /// Column scales are stored with each PB layer and applied to its input: at low_frac 0 (every
    /// weight 8-bit, no binarization) the logits stay about as close to the float model's as
    /// without them (within 3×: the 8-bit grid of W·diag(1/c) differs), on the kernels and
    /// dequantized, with all layers converted or some.
    func testColumnScalesAreStoredAndApplied() throws {
        let prompt = "The capital of France is"
        // The generator owns the logits it returns: copy them while it lives.
        func logits(_ m: LoadedModel) throws -> [Float] {
            let generator = Generator(model: m.model, contextLength: 16)
            return Array(UnsafeBufferPointer(start: try generator.feed(m.tokenizer.encode(prompt)), count: m.config.vocabularySize))
        }
        let expected = try logits(try LoadedModel.load(Paths.model("smollm2-135m").path, threads: 2))
        func relativeError(_ name: String, dequantize: Bool) throws -> Float {
            let got = try logits(try LoadedModel.load(dir.appendingPathComponent("\(name).pbllm").path, threads: 2, dequantize: dequantize))
            let error = zip(got, expected).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
            return (error / expected.reduce(0) { $0 + $1 * $1 }).squareRoot()
        }
        _ = try convert("plain") { $0.settings.lowFraction = 0; $0.settings.gptq = false }
        let baseline = try relativeError("plain", dequantize: false)
        for only in [[], ["attn_q", "ffn_down"]] {
            let name = "column-scale-\(only.count)"
            let (file, _) = try convert(name) { o in
                o.settings.lowFraction = 0; o.settings.gptq = false; o.settings.columnScale = true; o.only = only
            }
            XCTAssertTrue(file.metadata["pbllm.quant.settings"]?.string?.contains("\"column_scale\":true") ?? false)
            let c = try file.pbLayer(file.tensor(named: "blk.0.attn_q.weight")!).columnScale ?? []
            XCTAssertEqual(c.count, 576)
            XCTAssertGreaterThan((c.max() ?? 0) / (c.min() ?? 1), 2, "c should vary across columns")
            for dequantize in [false, true] {
                let e = try relativeError(name, dequantize: dequantize)
                XCTAssertLessThan(e, max(3 * baseline, 0.03), "\(only), dequantize \(dequantize): logits stray (8-bit alone: \(baseline))")
            }
        }
    }

    /// Settings that cannot work together are refused before any work, naming the flags.
    func testActOrderWithoutGPTQOrWithGroupsIsAClearError() {
        for (configure, flag) in [({ (o: inout ConversionOptions) in o.settings.gptq = false }, "--no-gptq"),
                                  ({ (o: inout ConversionOptions) in o.settings.groupSize = 128 }, "--groupsize")] {
            var o = ConversionOptions()
            o.settings.actOrder = true
            configure(&o)
            XCTAssertThrowsError(try Converter.convert(input: Paths.model("smollm2-135m").path,
                                                       output: dir.appendingPathComponent("x.pbllm").path, options: o,
                                                       log: { _ in }, progress: { _ in })) { error in
                XCTAssertTrue("\(error)".contains("--act-order") && "\(error)".contains(flag), "\(error)")
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("x.pbllm").path))
    }

    func testMissingCalibrationIsAClearError() {
        var o = ConversionOptions()
        o.maxLayer = 1
        XCTAssertThrowsError(try Converter.convert(input: Paths.model("smollm2-135m").path,
                                                   output: dir.appendingPathComponent("x.pbllm").path, options: o,
                                                   log: { _ in }, progress: { _ in })) { error in
            XCTAssertTrue("\(error)".contains("--calib"), "\(error)")
        }
    }
}
