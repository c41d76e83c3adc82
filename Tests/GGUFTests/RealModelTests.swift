import Foundation
import GGUF
import TestSupport
import XCTest

/// Reading the real model files fetched into models/.
final class RealModelTests: XCTestCase {
    func open(_ model: String) throws -> GGUFFile {
        let url = Paths.model(model)
        try XCTSkipUnless(FileManager.default.fileExists(atPath: url.path), "\(url.path) not fetched")
        return try GGUFFile(path: url.path)
    }

    func testSmolLM2Metadata() throws {
        let file = try open("smollm2-135m")
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.alignment, 32)
        XCTAssertEqual(file.metadata["general.architecture"]?.string, "llama")
        XCTAssertEqual(file.metadata["llama.block_count"]?.int, 30)
        XCTAssertEqual(file.metadata["llama.embedding_length"]?.int, 576)
        XCTAssertEqual(file.metadata["llama.attention.head_count"]?.int, 9)
        XCTAssertEqual(file.metadata["llama.attention.head_count_kv"]?.int, 3)
        XCTAssertEqual(file.metadata["llama.rope.freq_base"]?.double, 100000)
        XCTAssertEqual(file.metadata["tokenizer.ggml.model"]?.string, "gpt2")
        XCTAssertEqual(file.metadata["tokenizer.ggml.pre"]?.string, "smollm")
        XCTAssertEqual(file.metadata["tokenizer.ggml.add_bos_token"]?.bool, false)
        let tokens = try XCTUnwrap(file.metadata["tokenizer.ggml.tokens"]?.stringArray)
        XCTAssertEqual(tokens.count, 49152)
        XCTAssertEqual(file.metadata["tokenizer.ggml.token_type"]?.intArray?.count, 49152)
        XCTAssertEqual(file.metadata["tokenizer.ggml.merges"]?.stringArray?.count, 48900)
        XCTAssertEqual(file.metadata["tokenizer.ggml.eos_token_id"]?.int, 2)
        XCTAssertEqual(file.metadataKeys.count, 33)
        XCTAssertEqual(file.metadataKeys.first, "general.architecture")

        XCTAssertEqual(file.tensors.count, 272)
        let embedding = try XCTUnwrap(file.tensor(named: "token_embd.weight"))
        XCTAssertEqual(embedding.shape, [576, 49152])
        XCTAssertEqual(embedding.type, .q8_0)
        XCTAssertEqual(file.tensor(named: "blk.0.attn_q.weight")?.type, .q4_1)
        XCTAssertEqual(file.tensor(named: "blk.29.ffn_down.weight")?.shape, [1536, 576])
        XCTAssertEqual(file.dataOffset, 1_785_664)   // as gguf-py reports
        XCTAssertEqual(file.tensors.first?.offset, file.dataOffset)
        XCTAssertTrue(file.tensors.allSatisfy { $0.type.canDequantize })
        let last = file.tensors.max { $0.offset < $1.offset }!
        XCTAssertLessThanOrEqual(last.offset + last.byteCount, file.fileSize)
    }

    func testGemma3Metadata() throws {
        let file = try open("gemma3-270m")
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.metadata["general.architecture"]?.string, "gemma3")
        XCTAssertEqual(file.metadata["gemma3.block_count"]?.int, 18)
        XCTAssertEqual(file.metadata["gemma3.embedding_length"]?.int, 640)
        XCTAssertEqual(file.metadata["gemma3.attention.key_length"]?.int, 256)
        XCTAssertEqual(file.metadata["gemma3.attention.sliding_window"]?.int, 512)
        XCTAssertEqual(file.metadata["general.tags"]?.stringArray, ["gemma3", "gemma", "google", "text-generation"])
        XCTAssertEqual(file.metadata["tokenizer.ggml.model"]?.string, "llama")
        XCTAssertEqual(file.metadata["tokenizer.ggml.bos_token_id"]?.int, 2)
        XCTAssertEqual(file.metadata["tokenizer.ggml.add_bos_token"]?.bool, true)
        XCTAssertEqual(file.metadata["tokenizer.ggml.tokens"]?.stringArray?.count, 262144)
        XCTAssertEqual(file.metadata["tokenizer.ggml.scores"]?.floatArray?.count, 262144)
        XCTAssertEqual(file.metadata["tokenizer.ggml.token_type"]?.intArray?.count, 262144)

        XCTAssertEqual(file.tensors.count, 236)
        XCTAssertEqual(file.dataOffset, 6_525_120)   // as gguf-py reports
        XCTAssertEqual(file.tensor(named: "token_embd.weight")?.shape, [640, 262144])
        let types = Set(file.tensors.map(\.type))
        XCTAssertEqual(types, [.f32, .q5_0, .q4_K, .q6_K, .q8_0])
    }
}
