import Foundation
import GGUF
import Runtime
import Tokenizer
import TestSupport
import XCTest

/// pbllm-run as a user drives it: real models, real flags, and every kind of bad input.
final class CLITests: XCTestCase {
    let model = Paths.model("smollm2-135m").path

    func testHelpForEveryCommand() throws {
        for command in ["run", "tokenize", "perplexity"] {
            let r = try CLI.run([command, "--help"])
            XCTAssertEqual(r.status, 0, command)
            XCTAssertTrue(r.stdout.contains("usage: pbllm-run \(command)"), command)
        }
        XCTAssertEqual(try CLI.run(["--help"]).status, 0)
    }

    func testTokenizeJSONMatchesReferenceCases() throws {
        let fixture = try Paths.json(Paths.reference("tokenizer-vectors-smollm2-135m.json")) as! [String: Any]
        let cases = (fixture["cases"] as! [[String: Any]]).prefix(12)
        for c in cases {
            // The hex bytes are authoritative (JSONSerialization drops a leading BOM).
            let hex = Array((c["text_utf8_hex"] as! String).utf8)
            let bytes = stride(from: 0, to: hex.count, by: 2).map { UInt8(String(decoding: hex[$0..<($0 + 2)], as: UTF8.self), radix: 16)! }
            let text = String(decoding: bytes, as: UTF8.self)
            guard !text.isEmpty, !text.hasPrefix("-") else { continue }
            let r = try CLI.run(["tokenize", "-m", model, "--json", "--", text])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(try CLI.json(r)["ids"] as? [Int], c["ids"] as? [Int], text)
        }
    }

    func testTokenizeFileKeepsEveryByte() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pbllm-cli-\(UUID()).txt")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data("a\r\nb\u{0}c".utf8).write(to: url)
        let fromFile = try CLI.json(try CLI.run(["tokenize", "-m", model, "--json", "-f", url.path]))["ids"] as! [Int]
        let plain = try CLI.json(try CLI.run(["tokenize", "-m", model, "--json", "a\nbc"]))["ids"] as! [Int]
        XCTAssertGreaterThan(fromFile.count, plain.count, "\\r and NUL must be tokenized, not dropped")
    }

    func testGreedyRunJSONReproducesReferenceContinuation() throws {
        let fixture = try Paths.json(Paths.reference("logits-smollm2-135m.json")) as! [String: Any]
        let prompt = (fixture["prompts"] as! [[String: Any]])[1]
        let reference = prompt["generated_ids"] as! [Int]
        let margins = prompt["top1_top2_margin"] as! [Double]
        let trusted = margins.firstIndex { $0 < 0.02 } ?? reference.count
        let r = try CLI.run(["run", "-m", model, "-p", prompt["text"] as! String, "--temp", "0", "-n", "\(reference.count)",
                             "--ignore-eos", "--json", "-t", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try CLI.json(r)
        XCTAssertEqual(json["prompt_ids"] as? [Int], prompt["prompt_ids"] as? [Int])
        let ids = json["ids"] as! [Int]
        XCTAssertEqual(Array(ids.prefix(trusted)), Array(reference.prefix(trusted)))
        for key in ["text", "prefill_tokens_per_second", "decode_tokens_per_second"] { XCTAssertNotNil(json[key], key) }
    }

    func testStreamedTextEqualsJSONText() throws {
        let args = ["run", "-m", model, "-p", "Once upon a time", "--temp", "0.9", "--seed", "11", "-n", "24"]
        let streamed = try CLI.run(args)
        let json = try CLI.json(try CLI.run(args + ["--json"]))
        XCTAssertEqual(streamed.status, 0, streamed.stderr)
        XCTAssertEqual(streamed.stdout, (json["text"] as! String) + "\n", "same seed, same text")
    }

    // MARK: bad input: a clear message and a non-zero exit, never a crash

    private func assertFails(_ args: [String], status: Int32? = nil, mentioning needle: String,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try CLI.run(args)
        XCTAssertNotEqual(r.status, 0, "\(args)", file: file, line: line)
        if let status { XCTAssertEqual(r.status, status, "\(args)", file: file, line: line) }
        XCTAssertLessThan(r.status, 128, "crashed: \(args)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(needle), "\(args): stderr was \(r.stderr)", file: file, line: line)
    }

    func testBadInputGivesClearErrors() throws {
        try assertFails(["frobnicate"], status: 2, mentioning: "unknown command")
        try assertFails(["run", "-m", model, "-p", "x", "--bogus"], status: 2, mentioning: "unknown option '--bogus'")
        try assertFails(["run", "-m", model, "-p", ""], status: 2, mentioning: "empty")
        try assertFails(["run", "-m", model], status: 2, mentioning: "missing -p")
        try assertFails(["run", "-m", model, "-p", "x", "-n", "many"], status: 2, mentioning: "integer")
        try assertFails(["run", "-m", model, "-p", "x", "--temp", "-1"], status: 2, mentioning: "--temp")
        try assertFails(["run", "-m", "no-such-model", "-p", "x"], mentioning: "no-such-model")
        try assertFails(["perplexity", "-m", model], status: 2, mentioning: "missing -f")
        try assertFails(["tokenize", "-m", model, "-f", "/nonexistent/file"], mentioning: "/nonexistent/file")
    }

    func testCorruptAndTruncatedModelFilesAreErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pbllm-cli-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let original = try Data(contentsOf: URL(fileURLWithPath: model), options: .alwaysMapped)

        let truncated = dir.appendingPathComponent("truncated.gguf")
        try original.prefix(original.count / 2).write(to: truncated)
        try assertFails(["run", "-m", truncated.path, "-p", "hi"], mentioning: "truncated.gguf")

        let garbage = dir.appendingPathComponent("garbage.gguf")
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: garbage)
        try assertFails(["run", "-m", garbage.path, "-p", "hi"], mentioning: "garbage.gguf")

        // A well-formed GGUF of an architecture the runtime does not know.
        var writer = GGUFWriter()
        writer.set("general.architecture", .string("opt"))
        let unknown = dir.appendingPathComponent("opt.gguf")
        try writer.write(to: unknown.path)
        try assertFails(["run", "-m", unknown.path, "-p", "hi"], mentioning: "unsupported architecture 'opt'")
    }
}

/// `tokenize -m tokenizer.model`: a SentencePiece model file (here Gemma 3's vocabulary, written
/// as Hugging Face would ship it) tokenizes exactly as the GGUF it came from; a corrupt one is an error.
final class TokenizerModelFileCLITests: XCTestCase {
    func testTokenizerModelFileTokenizesLikeTheGGUF() throws {
        let gguf = Paths.model("gemma3-270m").path
        let vocab = try TokenizerVocabulary(gguf: try GGUFFile(path: gguf).metadata, path: gguf)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pbllm-spm-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("tokenizer.model")
        try Data(vocab.sentencePieceModel()).write(to: file)
        for text in ["Hello world", "  leading spaces and <start_of_turn>user\n", "naïve 日本語 🙂 1234"] {
            let fromModel = try CLI.run(["tokenize", "-m", file.path, "--json", "--", text])
            XCTAssertEqual(fromModel.status, 0, fromModel.stderr)
            let fromGGUF = try CLI.run(["tokenize", "-m", gguf, "--json", "--", text])
            XCTAssertEqual(try CLI.json(fromModel)["ids"] as? [Int], try CLI.json(fromGGUF)["ids"] as? [Int], text)
        }
        let corrupt = dir.appendingPathComponent("corrupt.model")
        try Data(vocab.sentencePieceModel().prefix(1000) + [0x0A, 0xFF, 0x01]).write(to: corrupt)
        let r = try CLI.run(["tokenize", "-m", corrupt.path, "x"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("corrupt.model"), r.stderr)
    }
}
