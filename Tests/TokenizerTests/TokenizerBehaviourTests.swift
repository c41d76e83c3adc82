import Dispatch
import Foundation
import Tokenizer
import XCTest

/// Special tokens, BOS/EOS, end-of-generation tokens, byte views and vocabulary errors.
final class TokenizerBehaviourTests: XCTestCase {
    func testParseSpecialOffSpellsSpecialTokensAsText() throws {
        let smol = try TestTokenizers.smollm2()
        XCTAssertEqual(smol.encode("<|im_start|>user"), [1, 4093])
        let plain = smol.encode("<|im_start|>user", parseSpecial: false)
        XCTAssertFalse(plain.contains(1))
        XCTAssertEqual(smol.decode(plain), "<|im_start|>user")

        let gemma = try TestTokenizers.gemma3()
        XCTAssertEqual(gemma.encode("<start_of_turn>"), [105])
        XCTAssertFalse(gemma.encode("<start_of_turn>", parseSpecial: false).contains(105))
        // User-defined tokens (runs of spaces, newlines, HTML tags) are matched either way.
        XCTAssertEqual(gemma.encode("a\n\nb<table>", parseSpecial: false).map { gemma.tokenString($0) },
                       ["a", "\n\n", "b", "<table>"])
    }

    func testAddSpecialFollowsTheVocabulary() throws {
        let smol = try TestTokenizers.smollm2()
        XCTAssertFalse(smol.addBos)
        XCTAssertEqual(smol.encode("Hello", addSpecial: true), smol.encode("Hello"))

        let gemma = try TestTokenizers.gemma3()
        XCTAssertTrue(gemma.addBos)
        XCTAssertEqual(gemma.encode("Hello", addSpecial: true), [2] + gemma.encode("Hello"))
    }

    func testEndOfGeneration() throws {
        let smol = try TestTokenizers.smollm2()
        XCTAssertTrue(smol.isEndOfGeneration(2))        // <|im_end|> (EOS)
        XCTAssertTrue(smol.isEndOfGeneration(0))        // <|endoftext|>
        XCTAssertFalse(smol.isEndOfGeneration(1))       // <|im_start|>
        XCTAssertFalse(smol.isEndOfGeneration(19556))   // "Hello"

        let gemma = try TestTokenizers.gemma3()
        XCTAssertTrue(gemma.isEndOfGeneration(1))       // <eos>
        XCTAssertTrue(gemma.isEndOfGeneration(106))     // <end_of_turn>
        XCTAssertFalse(gemma.isEndOfGeneration(105))    // <start_of_turn>
        XCTAssertFalse(gemma.isEndOfGeneration(2))      // <bos>
    }

    func testConcurrentEncodingAgrees() throws {
        let tokenizer = try TestTokenizers.gemma3()
        let text = String(repeating: "Concurrent 🍕 encoding, 1234 times\n", count: 200)
        let expected = tokenizer.encode(text)
        let results = ResultsBox(count: 4)
        DispatchQueue.concurrentPerform(iterations: 4) { i in results.set(i, tokenizer.encode(text)) }
        for i in 0..<4 { XCTAssertEqual(results.get(i), expected) }
    }

    func testTokenBytes() throws {
        let smol = try TestTokenizers.smollm2()
        XCTAssertEqual(smol.tokenString(905), "Ġworld")
        XCTAssertEqual(smol.tokenBytes(905), Array(" world".utf8))
        XCTAssertEqual(smol.tokenBytes(1), Array("<|im_start|>".utf8))

        let gemma = try TestTokenizers.gemma3()
        XCTAssertEqual(gemma.tokenString(1902), "▁world")
        XCTAssertEqual(gemma.tokenBytes(1902), Array(" world".utf8))
        XCTAssertEqual(gemma.tokenBytes(251), [0x0D])                // <0x0D>
        XCTAssertEqual(gemma.tokenBytes(139), Array("   ".utf8))     // user-defined, as stored
        XCTAssertEqual(gemma.tokenType(251), .byte)
    }

    func testUnknownModelThrows() {
        let vocab = TokenizerVocabulary(model: "bert", tokens: ["[CLS]", "a"], source: "/tmp/x.gguf")
        XCTAssertThrowsError(try Tokenizer(vocab)) { error in
            XCTAssertEqual(error as? TokenizerError, .unknownModel("bert", source: "/tmp/x.gguf"))
            let message = String(describing: error)
            XCTAssertTrue(message.contains("bert") && message.contains("/tmp/x.gguf") && message.contains("HINT"), message)
        }
    }

    func testUnknownPreTokenizerThrows() {
        let vocab = TokenizerVocabulary(model: "gpt2", pre: "no-such-splitter", tokens: ["a"], merges: [])
        XCTAssertThrowsError(try Tokenizer(vocab)) { error in
            XCTAssertEqual(error as? TokenizerError, .unknownPreTokenizer("no-such-splitter", source: nil))
            XCTAssertTrue(String(describing: error).contains("smollm"))
        }
    }

    func testInvalidVocabulariesThrow() {
        let bad: [TokenizerVocabulary] = [
            TokenizerVocabulary(model: "gpt2", tokens: []),
            TokenizerVocabulary(model: "gpt2", tokens: ["a", "b"], tokenTypes: [1]),
            TokenizerVocabulary(model: "gpt2", tokens: ["a", "b"], merges: nil),
            TokenizerVocabulary(model: "gpt2", tokens: ["a", "b"], merges: ["ab"]),
            TokenizerVocabulary(model: "gpt2", tokens: ["a", "b"], merges: ["a b"]),     // "ab" is missing
            TokenizerVocabulary(model: "gpt2", tokens: ["a"], merges: [], eosId: 7),
            TokenizerVocabulary(model: "llama", tokens: ["a"], scores: nil),
            TokenizerVocabulary(model: "llama", tokens: ["<0xZZ>"], tokenTypes: [6], scores: [0]),
        ]
        for vocab in bad {
            XCTAssertThrowsError(try Tokenizer(vocab), "\(vocab.model) \(vocab.tokens)") { error in
                XCTAssertTrue(String(describing: error).contains("HINT"))
            }
        }
    }

    /// A hand-made byte-level BPE vocabulary: the merges apply by rank, not by length.
    func testTinyByteLevelBPE() throws {
        let bytes = (0..<256).map { String(ByteMappingForTests.scalar(UInt8($0))) }
        let tokens = bytes + ["ab", "bc", "abc", "Ġa"]
        let vocab = TokenizerVocabulary(model: "gpt2", pre: "gpt2", tokens: tokens,
                                        merges: ["b c", "a b", "a bc", "Ġ a"])
        let tokenizer = try Tokenizer(vocab)
        let id = { (s: String) in tokens.firstIndex(of: s)! }
        // "b c" outranks "a b": abc -> a + bc -> abc.
        XCTAssertEqual(tokenizer.encode("abc"), [id("abc")])
        XCTAssertEqual(tokenizer.encode("abab a"), [id("ab"), id("ab"), id("Ġa")])
        XCTAssertEqual(tokenizer.decode(tokenizer.encode("abab a")), "abab a")
    }
}

/// GPT-2's byte spelling, restated independently for the tiny vocabulary above.
enum ByteMappingForTests {
    static func scalar(_ byte: UInt8) -> Unicode.Scalar {
        let printable = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        if printable.contains(Int(byte)) { return Unicode.Scalar(byte) }
        let others = (0..<256).filter { !printable.contains($0) }
        return Unicode.Scalar(UInt32(256 + others.firstIndex(of: Int(byte))!))!
    }
}

/// Collects per-thread results for the concurrency test.
private final class ResultsBox: @unchecked Sendable {
    private var values: [[Int]]
    private let lock = NSLock()
    init(count: Int) { values = Array(repeating: [], count: count) }
    func set(_ i: Int, _ value: [Int]) { lock.lock(); values[i] = value; lock.unlock() }
    func get(_ i: Int) -> [Int] { lock.lock(); defer { lock.unlock() }; return values[i] }
}
