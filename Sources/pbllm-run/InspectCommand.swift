import Foundation
import GGUF
import PBFormat

/// `pbllm-run inspect`: what a .pbllm file holds and where its bits go.
enum InspectCommand: Command {
    static let name = "inspect"
    static let synopsis = "pbllm-run inspect FILE [--tensors] [--json]"
    static let summary = "Shows a .pbllm file's architecture, provenance, tensors and real bits per weight."
    static let options: [Option] = [
        Option(names: ["--tensors"], value: nil, help: "list every tensor"),
        CommonOptions.json,
    ]

    static func run(_ args: ParsedArguments) throws {
        guard args.positionals.count == 1 else { throw UsageError(description: "give exactly one FILE") }
        let file = try PBFile(path: args.positionals[0])
        let s = PBFileSummary(file)
        let meta = file.metadata
        let provenance = ["pbllm.source.file", "pbllm.source.sha256", "pbllm.quant.method", "pbllm.quant.settings",
                          "pbllm.quant.created"].compactMap { k in meta[k]?.string.map { (k, $0) } }
        let bits: [String: Double] = [
            "paper": s.paperBitsPerWeight, "pb_layers": s.pbBitsPerWeight, "file": s.fileBitsPerWeight,
            "signs": s.bits(s.signBytes), "scales": s.bits(s.scaleBytes), "salient_values": s.bits(s.salientValueBytes),
            "salient_positions": s.bits(s.salientPositionBytes),
        ]
        if args.flag("--json") {
            Output.json([
                "architecture": meta["general.architecture"]?.string ?? "?", "file_bytes": s.fileBytes,
                "total_weights": s.totalWeights, "pb_weights": s.pbWeights, "salient_fraction": s.salientFraction,
                "high_bit": s.highBit, "bits_per_weight": bits, "other_bytes": s.otherBytes,
                "provenance": Dictionary(uniqueKeysWithValues: provenance),
                "tensors": file.tensors.map { t -> [String: Any] in
                    var d: [String: Any] = ["name": t.name, "encoding": t.encoding.rawValue, "shape": t.shape,
                                            "bytes": t.parts.values.reduce(0) { $0 + $1.size }]
                    if let note = t.note { d["note"] = note }
                    return d
                },
            ])
            return
        }
        var out = "file: \(file.path) (\(s.fileBytes) bytes)\n"
        out += "architecture: \(meta["general.architecture"]?.string ?? "?")\n"
        for (k, v) in provenance { out += "\(k): \(v)\n" }
        out += "tensors: " + s.encodings.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.value) \($0.key.rawValue)" }.joined(separator: ", ") + "\n"
        out += String(format: "PB layers: %d weights, %.2f%% salient, high_bit %d\n", s.pbWeights, 100 * s.salientFraction, s.highBit)
        out += String(format: "bits per weight, paper's count (1·(1−f) + high_bit·f): %.3f\n", s.paperBitsPerWeight)
        out += String(format: "bits per weight, stored in PB layers: %.3f = signs %.3f + scales %.3f + salient values %.3f + salient positions %.3f\n",
                      s.pbBitsPerWeight, bits["signs"]!, bits["scales"]!, bits["salient_values"]!, bits["salient_positions"]!)
        out += String(format: "bits per weight, whole file over all %d weights: %.3f (everything else: %d bytes)\n",
                      s.totalWeights, s.fileBitsPerWeight, s.otherBytes)
        for t in file.tensors where t.note != nil { out += "note: \(t.name): \(t.note!)\n" }
        if args.flag("--tensors") {
            for t in file.tensors {
                out += "  \(t.name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(t.encoding.rawValue.padding(toLength: 4, withPad: " ", startingAt: 0)) \(t.shape)\n"
            }
        }
        Output.write(out)
    }
}
