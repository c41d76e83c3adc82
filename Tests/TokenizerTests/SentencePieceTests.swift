import Foundation
import TestSupport
import Tokenizer
import XCTest

/// SentencePiece rules on a hand-made vocabulary, for what Gemma's vocabulary does not exercise
/// (a space prefix, unused pieces).
final class SentencePieceTests: XCTestCase {
    /// (piece, score, type); byte tokens <0x00>...<0xFF> follow.
    private let pieces: [(String, Float, Int)] = [
        ("<unk>", 0, 2), ("<s>", 0, 3), ("</s>", 0, 3),
        ("▁", -1, 1), ("a", -1, 1), ("b", -1, 1), ("c", -1, 1), ("x", -1, 1), ("y", -1, 1), ("z", -1, 1),
        ("ab", -3, 1), ("bc", -2, 1), ("abc", -4, 1), ("▁a", -5, 1),
        ("xy", -1, 5), ("xyz", -1, 1),      // "xy" is unused: it may be merged through, never output
    ]

    private func makeTokenizer(addSpacePrefix: Bool) throws -> (Tokenizer, (String) -> Int) {
        let bytes = (0..<256).map { (String(format: "<0x%02X>", $0), Float(0), 6) }
        let all = pieces + bytes
        let tokenizer = try Tokenizer(TokenizerVocabulary(
            model: "llama", tokens: all.map(\.0), tokenTypes: all.map(\.2), scores: all.map(\.1),
            bosId: 1, eosId: 2, unkId: 0, addBos: true, addSpacePrefix: addSpacePrefix))
        let id = { (piece: String) in all.firstIndex { $0.0 == piece }! }
        return (tokenizer, id)
    }

    func testMergesByScore() throws {
        let (tokenizer, id) = try makeTokenizer(addSpacePrefix: false)
        // "bc" (-2) beats "ab" (-3), then "abc" forms from a + bc.
        XCTAssertEqual(tokenizer.encode("abc"), [id("abc")])
        XCTAssertEqual(tokenizer.encode("ab a"), [id("ab"), id("▁a")])
        XCTAssertEqual(tokenizer.encode("cab", addSpecial: true), [1, id("c"), id("ab")])
    }

    func testByteFallbackAndDecode() throws {
        let (tokenizer, id) = try makeTokenizer(addSpacePrefix: false)
        // "é" (C3 A9) has no piece.
        let ids = tokenizer.encode("aé")
        XCTAssertEqual(ids, [id("a"), id("<0xC3>"), id("<0xA9>")])
        XCTAssertEqual(tokenizer.decode(ids), "aé")
        XCTAssertEqual(tokenizer.decode([1, id("▁a")]), "<s> a")
    }

    func testSpacePrefix() throws {
        let (tokenizer, id) = try makeTokenizer(addSpacePrefix: true)
        XCTAssertEqual(tokenizer.encode("a"), [id("▁a")])
        // Decoding drops the space the encoder put in front, also when streaming.
        XCTAssertEqual(tokenizer.decode([id("▁a"), id("▁a")]), "a a")
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        XCTAssertEqual(decoder.append(id("▁a")), "a")
        XCTAssertEqual(decoder.append(id("▁a")), " a")
        // Only the text at the very start gets the prefix, not text after a special token.
        XCTAssertEqual(tokenizer.encode("a</s>a"), [id("▁a"), 2, id("a")])
    }

    func testUnusedPiecesAreSplitBack() throws {
        let (tokenizer, id) = try makeTokenizer(addSpacePrefix: false)
        XCTAssertEqual(tokenizer.encode("xyz"), [id("xyz")])
        XCTAssertEqual(tokenizer.encode("xy"), [id("x"), id("y")])
    }

    func testConstructionOfTheFullVocabulary() throws {
        // Gemma 3's vocabulary has 262,144 tokens; the time is printed (speed belongs in benchmarks).
        let vocab = try loadVocabulary(Paths.model("gemma3-270m"))
        let clock = ContinuousClock()
        var tokenizer: Tokenizer?
        let elapsed = try clock.measure { tokenizer = try Tokenizer(vocab) }
        XCTAssertEqual(tokenizer?.vocabularySize, 262_144)
        print("Gemma 3 tokenizer (\(tokenizer!.vocabularySize) tokens) built in \(elapsed)")
    }
}
