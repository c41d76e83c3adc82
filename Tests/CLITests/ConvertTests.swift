import Foundation
import TestSupport
import XCTest

/// `convert` and `inspect` end to end on the real model (two decoder layers, to stay quick).
final class ConvertTests: XCTestCase {
    let model = Paths.model("smollm2-135m").path
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("pbllm-convert-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testConvertInspectAndRunAPackedModel() throws {
        let out = dir.appendingPathComponent("m.pbllm").path
        let c = try CLI.run(["convert", model, "-o", out, "--low-frac", "0.9", "--no-gptq", "--head", "q8", "--max-layer", "2"])
        XCTAssertEqual(c.status, 0, c.stderr)
        XCTAssertTrue(c.stderr.contains("[layer 2/30] ffn_down"), "per-layer progress: \(c.stderr)")
        let info = try CLI.json(try CLI.run(["inspect", out, "--json"]))
        let bits = info["bits_per_weight"] as! [String: Double]
        XCTAssertEqual(bits["paper"]!, 1.7, accuracy: 0.01)
        XCTAssertEqual(bits["signs"]!, 1.0, accuracy: 1e-9)
        XCTAssertGreaterThan(bits["pb_layers"]!, bits["paper"]!, "real bits count positions and scales too")
        XCTAssertEqual((info["provenance"] as! [String: String])["pbllm.source.sha256"],
                       "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
        let run = try CLI.run(["run", "-m", out, "-p", "Hello", "-n", "4", "--temp", "0", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual((try CLI.json(run)["ids"] as! [Int]).count, 4)

        // The same conversion with block offsets (`pb`): more position bits, the very same model.
        let offsets = dir.appendingPathComponent("offsets.pbllm").path
        XCTAssertEqual(try CLI.run(["convert", model, "-o", offsets, "--low-frac", "0.9", "--no-gptq", "--head", "q8",
                                    "--max-layer", "2", "--positions", "offsets"]).status, 0)
        let offsetBits = try CLI.json(try CLI.run(["inspect", offsets, "--json"]))["bits_per_weight"] as! [String: Double]
        XCTAssertLessThan(bits["salient_positions"]!, offsetBits["salient_positions"]! * 0.7, "zstd bitmap vs block offsets")
        let runOffsets = try CLI.run(["run", "-m", offsets, "-p", "Hello", "-n", "4", "--temp", "0", "--json"])
        XCTAssertEqual(try CLI.json(runOffsets)["ids"] as? [Int], try CLI.json(run)["ids"] as? [Int])
        XCTAssertNotEqual(try CLI.run(["convert", model, "-o", offsets, "--no-gptq", "--positions", "gzip"]).status, 0)
    }

    func testBadConvertInvocationsFailCleanlyAndLeaveNothing() throws {
        let out = dir.appendingPathComponent("x.pbllm").path
        for args in [["convert", model, "-o", out],  // GPTQ without --calib
                     ["convert", model, "-o", out, "--no-gptq", "--method", "ternary"],
                     ["convert", model, "-o", out, "--no-gptq", "--low-frac", "1.5"],
                     ["convert", model, "-o", out, "--no-gptq", "--salient", "hessian"],
                     ["convert", "/nonexistent.gguf", "-o", out, "--no-gptq"]] {
            let r = try CLI.run(args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertFalse(r.stderr.isEmpty, "\(args)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [], "no partial output")
    }

    func testInterruptedConvertLeavesNoFile() throws {
        let out = dir.appendingPathComponent("int.pbllm").path
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = ["convert", model, "-o", out, "--no-gptq"]
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Wait until the temporary output exists (tensors are being written), then interrupt.
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline && p.isRunning {
            if (try? FileManager.default.contentsOfDirectory(atPath: dir.path))?.isEmpty == false { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        p.interrupt()
        p.waitUntilExit()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [], "interrupted convert left files")
    }
}
