import Foundation
import GGUF
import PBFormat
import Runtime
import Tokenizer

/// One line of progress, for a per-layer report with an ETA.
public struct ConversionProgress: Sendable {
    public var layer: Int, layers: Int
    public var sublayer: String
    public var elapsed: Double
    public var eta: Double
}

/// What a conversion did, layer by layer (the `--report` JSON).
public struct ConversionReport: Codable, Sendable {
    public struct Layer: Codable, Sendable {
        public var layer: Int
        public var name: String
        public var loss: Double
        public var seconds: Double
        public var salientFraction: Double
    }
    public var layers: [Layer] = []
    public var seconds = 0.0
    public var outputBytes = 0
}

/// GGUF checkpoint → .pbllm: PB-LLM quantization of the decoder's linear layers, layer by layer
/// (with calibration: each layer sees inputs produced by the already-quantized layers before it,
/// and all its linear layers' Hessians are collected in one pass, as PB-LLM's gptq_pb does).
public enum Converter {
    public static func convert(input: String, output: String, options: ConversionOptions,
                               log: @escaping (String) -> Void,
                               progress: (ConversionProgress) -> Void) throws -> ConversionReport {
        let s = options.settings
        guard (0...1).contains(s.lowFraction) else { throw QuantizerError.invalidSetting("--low-frac must be in 0...1") }
        guard (1...8).contains(s.highBit) else { throw QuantizerError.invalidSetting("--high-bit must be in 1...8") }
        guard s.blockSize > 0, (s.groupSize ?? 1) > 0 else { throw QuantizerError.invalidSetting("--blocksize and --groupsize must be positive") }
        if s.actOrder {
            guard s.gptq else { throw QuantizerError.invalidSetting("--act-order orders GPTQ's columns: it does nothing with --no-gptq") }
            guard s.groupSize == nil else { throw QuantizerError.invalidSetting("--act-order works on whole rows: drop --groupsize") }
        }
        if options.needsCalibration && options.calibrationFile == nil {
            throw QuantizerError.needsCalibration(s.gptq ? "GPTQ (use --no-gptq for round-to-nearest)" : "--salient \(s.salient.rawValue)")
        }
        let inputPath = try ModelRegistry.resolve(input)
        let source = try GGUFFile(path: inputPath)  // converts GGUF checkpoints; a .pbllm is already quantized
        let loaded = try LoadedModel.load(inputPath, threads: options.threads)
        let model = loaded.model, config = model.config
        let clock = Date()

        var calibration: [FloatBuffer]? = nil  // hidden states entering the current layer, one per window
        if options.needsCalibration, let file = options.calibrationFile {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            let set = try CalibrationSet(tokens: loaded.tokenizer.encode(text, parseSpecial: false),
                                         samples: options.samples, length: options.sequenceLength, seed: options.seed)
            calibration = set.windows.map { window in
                let x = FloatBuffer(count: window.count * config.dim)
                model.embed(window, into: x.pointer)
                return x
            }
            log("calibration: \(options.samples) windows of \(options.sequenceLength) tokens from \(file)")
        }
        let cache = model.makeCache(capacity: max(options.sequenceLength, 1))

        var results: [String: QuantizedLayer] = [:]
        var report = ConversionReport()
        let selected = (0..<config.layerCount).flatMap { l in
            model.linearLayers(l).filter { options.selects(layer: l, name: $0.name) }.map { (l, $0.name) }
        }
        var done = 0
        for l in 0..<config.layerCount {
            let linears = model.linearLayers(l).filter { options.selects(layer: l, name: $0.name) }
            if linears.isEmpty { if let xs = calibration { run(model, layer: l, xs, cache, observe: nil) }; continue }

            // One pass over the calibration windows collects the Hessian of every linear input.
            var hessians: [String: HessianAccumulator] = [:]
            if let xs = calibration {
                let T = options.sequenceLength
                run(model, layer: l, xs, cache) { names, input, width in
                    for name in names where linears.contains(where: { $0.name == name }) {
                        let h = hessians[name] ?? HessianAccumulator(columns: width)
                        h.add(input, tokens: T)
                        hessians[name] = h
                    }
                }
            }
            for (name, layer) in linears {
                guard let float = layer as? FloatLinear else {
                    throw QuantizerError.invalidSetting("\(inputPath): layer \(l) \(name) is not stored in float; convert takes a GGUF checkpoint")
                }
                let started = Date()
                progress(ConversionProgress(layer: l + 1, layers: config.layerCount, sublayer: name,
                                            elapsed: Date().timeIntervalSince(clock),
                                            eta: done == 0 ? 0 : Date().timeIntervalSince(clock) / Double(done) * Double(selected.count - done)))
                let result = try LayerQuantizer.quantize(weights: float.weights.array, rows: float.outFeatures,
                                                         columns: float.inFeatures, settings: s,
                                                         hessian: hessians[name]?.hessian)
                // Later layers must see this layer's quantized outputs.
                result.values.withUnsafeBufferPointer { float.weights.pointer.update(from: $0.baseAddress!, count: $0.count) }
                results["blk.\(l).\(name).weight"] = result
                report.layers.append(.init(layer: l, name: name, loss: result.loss, seconds: Date().timeIntervalSince(started),
                                           salientFraction: Double(result.salient.lazy.filter { $0 }.count) / Double(result.salient.count)))
                done += 1
            }
            if let xs = calibration { run(model, layer: l, xs, cache, observe: nil) }
        }

        let writer = try PBFileWriter(path: output)
        do {
            try writeTensors(source: source, results: results, options: options, writer: writer)
            try writer.finish(metadata: metadata(source: source, inputPath: inputPath, options: options))
        } catch {
            writer.abandon()
            throw error
        }
        report.seconds = Date().timeIntervalSince(clock)
        report.outputBytes = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
        return report
    }

    /// Runs decoder layer `l` over every calibration window. Without an observer the windows are
    /// updated in place (they become the next layer's inputs); with one, the layer runs on a copy
    /// so that the inputs stay as they were until the layer is quantized.
    private static func run(_ model: LanguageModel, layer l: Int, _ xs: [FloatBuffer], _ cache: KVCache,
                            observe: LinearInputObserver?) {
        let scratch = observe == nil ? nil : FloatBuffer(count: xs.first?.count ?? 0)
        for x in xs {
            cache.reset()
            let target = scratch ?? x
            if let scratch { scratch.pointer.update(from: x.pointer, count: x.count) }
            model.forwardLayer(l, target.pointer, tokens: x.count / model.config.dim, cache: cache, observe: observe)
        }
    }

    /// Every tensor of the source, in its order: quantized linear layers as `pbz`/`pb` (or float where
    /// the method has no packed form), embeddings/head as f16 or q8, the rest as f32.
    private static func writeTensors(source: GGUFFile, results: [String: QuantizedLayer], options: ConversionOptions,
                                     writer: PBFileWriter) throws {
        for info in source.tensors {
            let shape = info.shape.count > 1 && info.shape.dropFirst(2).allSatisfy({ $0 == 1 }) ? Array(info.shape.prefix(2)) : info.shape
            if let q = results[info.name] {
                if let codes = q.packed {
                    var layer = PBLayer(codes: codes, salient: q.salient, rows: q.rows, columns: q.columns)
                    layer.columnScale = q.columnScale
                    try writer.add(info.name, encoding: options.pbEncoding, shape: shape,
                                   parts: layer.parts(options.pbEncoding), highBit: layer.highBit,
                                   salientCount: options.pbEncoding == .pbz ? layer.salientCount : nil)
                } else {
                    try writer.add(info.name, encoding: .f32, shape: shape, parts: [("data", q.values.littleEndianBytes)],
                                   note: "\(options.settings.method.rawValue): no packed form yet, stored dequantized")
                }
                continue
            }
            let values = try source.dequantize(info)
            let isMatrix = shape.count == 2
            if isMatrix && options.head == .q8 && (info.name == "token_embd.weight" || info.name == "output.weight") {
                let (q, scale) = Q8Rows.quantize(values, rows: shape[1], columns: shape[0])
                try writer.add(info.name, encoding: .q8, shape: shape, parts: [("q", q.littleEndianBytes), ("scale", scale.littleEndianBytes)])
            } else if isMatrix {
                let half = values.map { Float16($0).bitPattern }
                try writer.add(info.name, encoding: .f16, shape: shape, parts: [("data", half.littleEndianBytes)])
            } else {
                try writer.add(info.name, encoding: .f32, shape: shape, parts: [("data", values.littleEndianBytes)])
            }
        }
    }

    /// The source's metadata (hyperparameters, tokenizer, chat template) plus provenance.
    private static func metadata(source: GGUFFile, inputPath: String, options: ConversionOptions) throws -> GGUFWriter {
        var w = GGUFWriter()
        for key in source.metadataKeys where !key.hasPrefix("general.file_type") && key != "general.quantization_version" {
            w.set(key, source.metadata[key]!)
        }
        var settings: [String: Any] = [
            "method": options.settings.method.rawValue, "low_frac": options.settings.lowFraction,
            "high_bit": options.settings.highBit, "salient": options.settings.salient.rawValue,
            "salient_unit": options.settings.salientUnit.rawValue,
            "refit_scales": options.settings.refitScales, "pbllm_statistics": options.settings.pbllmStatistics,
            "column_scale": options.settings.columnScale, "act_order": options.settings.actOrder,
            "gptq": options.settings.gptq, "blocksize": options.settings.blockSize,
            "percdamp": options.settings.percentDamp, "head": options.head.rawValue,
            "pb_encoding": options.pbEncoding.rawValue,
            "groupsize": options.settings.groupSize ?? -1, "min_layer": options.minLayer,
            "max_layer": options.maxLayer == Int.max ? -1 : options.maxLayer, "only": options.only, "invert": options.invert,
        ]
        if let calib = options.calibrationFile {
            settings["calibration_file"] = (calib as NSString).lastPathComponent
            settings["calibration_sha256"] = try SHA256.hex(ofFile: calib)
            settings["nsamples"] = options.samples
            settings["seqlen"] = options.sequenceLength
            settings["seed"] = options.seed
        }
        let json = try JSONSerialization.data(withJSONObject: settings, options: [.sortedKeys])
        w.set("pbllm.source.file", .string((inputPath as NSString).lastPathComponent))
        w.set("pbllm.source.sha256", .string(try SHA256.hex(ofFile: inputPath)))
        w.set("pbllm.quant.method", .string(options.settings.method.rawValue))
        w.set("pbllm.quant.settings", .string(String(decoding: json, as: UTF8.self)))
        w.set("pbllm.quant.created", .string(ISO8601DateFormatter().string(from: Date())))
        w.set("pbllm.tool", .string("pbllm-run convert"))
        return w
    }
}

/// Per-row symmetric 8-bit quantization (encoding `q8`): w ≈ scaleᵢ·qᵢⱼ, q ∈ [−127, 127].
enum Q8Rows {
    static func quantize(_ w: [Float], rows: Int, columns: Int) -> (q: [Int8], scale: [Float]) {
        var q = [Int8](repeating: 0, count: w.count), scale = [Float](repeating: 0, count: rows)
        for i in 0..<rows {
            let row = w[(i * columns)..<((i + 1) * columns)]
            let maxAbs = row.reduce(0) { max($0, abs($1)) }
            let s = maxAbs > 0 ? maxAbs / 127 : 1
            scale[i] = s
            for j in 0..<columns { q[i * columns + j] = Int8((w[i * columns + j] / s).rounded()) }
        }
        return (q, scale)
    }
}
