import Foundation
import TestSupport
import Tokenizer
import XCTest

/// A SentencePiece `tokenizer.model` read into a tokenizer: Gemma 3's vocabulary written as one
/// (the GGUF holds the same pieces, scores and types as the model file it was converted from)
/// must tokenize every reference case exactly; hand-written files check the fields and defaults.
final class SentencePieceModelFileTests: XCTestCase {
    func testGemma3VocabularyThroughTokenizerModelMatchesReference() throws {
        let gguf = try loadVocabulary(Paths.model("gemma3-270m"))
        let bytes = gguf.sentencePieceModel()
        let vocab = try TokenizerVocabulary(sentencePieceModel: bytes, addBos: gguf.addBos, source: "gemma.model")
        XCTAssertEqual(vocab.tokens, gguf.tokens)
        XCTAssertEqual(vocab.scores, gguf.scores)
        XCTAssertEqual(vocab.tokenTypes, gguf.tokenTypes)
        XCTAssertEqual([vocab.bosId, vocab.eosId, vocab.unkId, vocab.padId], [gguf.bosId, gguf.eosId, gguf.unkId, gguf.padId])
        XCTAssertEqual(vocab.addSpacePrefix, gguf.addSpacePrefix)

        let tokenizer = try Tokenizer(vocab)
        let fixture = try TokenizerFixture.load("tokenizer-vectors-gemma3-270m.json")
        for c in fixture.cases {
            XCTAssertEqual(tokenizer.encode(c.text), c.ids, c.id)
            XCTAssertEqual(tokenizer.decode(c.ids), c.decoded, c.id)
        }
    }

    /// A file with only pieces and a normalizer: SentencePiece's defaults (unk 0, bos 1, eos 2, no pad,
    /// a dummy prefix, pieces NORMAL unless typed).
    func testDefaultsOfAMinimalFile() throws {
        var pieces = ProtoBytes()
        for (text, score, type) in [("<unk>", 0, 2), ("<s>", 0, 3), ("</s>", 0, 3), ("▁", -1, 0), ("a", -2, 0), ("▁a", -1.5, 0)]
            as [(String, Float, Int)] {
            var piece = ProtoBytes()
            piece.string(1, text)
            piece.fixed32(2, score.bitPattern)
            if type != 0 { piece.varint(3, UInt64(type)) }
            pieces.message(1, piece)
        }
        var normalizer = ProtoBytes()
        normalizer.varint(4, 0)  // remove_extra_whitespaces: false
        pieces.message(3, normalizer)
        let vocab = try TokenizerVocabulary(sentencePieceModel: pieces.bytes)
        XCTAssertEqual(vocab.tokens, ["<unk>", "<s>", "</s>", "▁", "a", "▁a"])
        XCTAssertEqual(vocab.tokenTypes, [2, 3, 3, 1, 1, 1])
        XCTAssertEqual(vocab.scores, [0, 0, 0, -1, -2, -1.5])
        XCTAssertEqual([vocab.unkId, vocab.bosId, vocab.eosId], [0, 1, 2])
        XCTAssertNil(vocab.padId)
        XCTAssertTrue(vocab.addSpacePrefix)
        let tokenizer = try Tokenizer(vocab)
        XCTAssertEqual(tokenizer.encode("a a", addSpecial: true), [1, 5, 5])
    }

    func testUnsupportedModelsAreClearErrors() throws {
        func file(modelType: UInt64 = 2, normalizer: String = "identity", removeExtraSpaces: UInt64 = 0) -> [UInt8] {
            var trainer = ProtoBytes(); trainer.varint(3, modelType)
            var norm = ProtoBytes(); norm.string(1, normalizer); norm.varint(4, removeExtraSpaces)
            var model = ProtoBytes()
            for text in ["<unk>", "<s>", "</s>", "a"] {
                var piece = ProtoBytes(); piece.string(1, text)
                model.message(1, piece)
            }
            model.message(2, trainer); model.message(3, norm)
            return model.bytes
        }
        XCTAssertNoThrow(try TokenizerVocabulary(sentencePieceModel: file()))
        for (bytes, expected) in [(file(modelType: 3), "model type 3"), (file(normalizer: "nmt_nfkc"), "nmt_nfkc"),
                                  (file(removeExtraSpaces: 1), "remove_extra_whitespaces")] {
            XCTAssertThrowsError(try TokenizerVocabulary(sentencePieceModel: bytes, source: "t.model")) {
                XCTAssertTrue("\($0)".contains(expected) && "\($0)".contains("t.model"), "\($0)")
            }
        }
    }

    /// Truncations and byte flips anywhere give an error or a (different) vocabulary, never a crash;
    /// a length running past the end, an unknown wire type and a bad piece type are named.
    func testCorruptFilesNeverCrash() throws {
        let gguf = try loadVocabulary(Paths.model("gemma3-270m"))
        var small = gguf
        small.tokens = Array(gguf.tokens.prefix(300))
        small.scores = gguf.scores.map { Array($0.prefix(300)) }
        small.tokenTypes = gguf.tokenTypes.map { Array($0.prefix(300)) }
        let bytes = small.sentencePieceModel()
        XCTAssertThrowsError(try TokenizerVocabulary(sentencePieceModel: Array(bytes.prefix(3))))  // inside piece 0
        var rng = SystemRandomNumberGenerator()
        for length in stride(from: 0, to: bytes.count, by: 7) {
            _ = try? TokenizerVocabulary(sentencePieceModel: Array(bytes.prefix(length)))
        }
        for _ in 0..<2000 {
            var flipped = bytes
            flipped[Int.random(in: 0..<bytes.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            if let vocab = try? TokenizerVocabulary(sentencePieceModel: flipped) { _ = try? Tokenizer(vocab) }
        }
        XCTAssertThrowsError(try TokenizerVocabulary(sentencePieceModel: [0x0A, 0x7F, 0x0A])) {
            XCTAssertTrue("\($0)".contains("claims 127 bytes"), "\($0)")
        }
        XCTAssertThrowsError(try TokenizerVocabulary(sentencePieceModel: [0x0B])) {
            XCTAssertTrue("\($0)".contains("wire type 3"), "\($0)")
        }
        XCTAssertThrowsError(try TokenizerVocabulary(sentencePieceModel: [0x0A, 0x05, 0x0A, 0x01, 0x61, 0x18, 0x09])) {
            XCTAssertTrue("\($0)".contains("unknown type 9"), "\($0)")
        }
    }
}

/// Protocol Buffers, written by hand for the tests (independent of the module's own writer).
struct ProtoBytes {
    var bytes: [UInt8] = []
    mutating func key(_ field: UInt64, _ wire: UInt64) { number(field << 3 | wire) }
    mutating func number(_ v: UInt64) {
        var v = v
        repeat { bytes.append(UInt8(v & 0x7F) | (v >= 0x80 ? 0x80 : 0)); v >>= 7 } while v > 0
    }
    mutating func varint(_ field: UInt64, _ v: UInt64) { key(field, 0); number(v) }
    mutating func fixed32(_ field: UInt64, _ v: UInt32) { key(field, 5); bytes += withUnsafeBytes(of: v.littleEndian, Array.init) }
    mutating func string(_ field: UInt64, _ s: String) { key(field, 2); number(UInt64(s.utf8.count)); bytes += Array(s.utf8) }
    mutating func message(_ field: UInt64, _ m: ProtoBytes) { key(field, 2); number(UInt64(m.bytes.count)); bytes += m.bytes }
}
