import Tokenizer
import XCTest

final class StreamingDecoderTests: XCTestCase {
    private let texts = [
        "I love 🍕! 👍🏽 🏳️‍🌈 ❤️",
        "你好，世界！日本語のテキスト",
        "Съешь же ещё этих мягких французских булок",
        "private \u{E000} use and \u{10FFFD} plane 16",
        "<|im_start|>user\nHi 🍕<|im_end|>",
        "<start_of_turn>model\n😀😀<end_of_turn>",
    ]

    /// Streams `ids` one at a time; returns the pieces (flush last).
    private func stream(_ tokenizer: Tokenizer, _ ids: [Int]) -> [String] {
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        var pieces = ids.map { decoder.append($0) }
        pieces.append(decoder.flush())
        return pieces
    }

    private func checkStreaming(_ tokenizer: Tokenizer) {
        for text in texts {
            let ids = tokenizer.encode(text)
            let pieces = stream(tokenizer, ids)
            XCTAssertEqual(pieces.joined(), text, "pieces join to the text")
            XCTAssertEqual(pieces.joined(), tokenizer.decode(ids))
            for piece in pieces {
                XCTAssertFalse(piece.unicodeScalars.contains("\u{FFFD}"), "a character was split: \(pieces)")
            }
        }
    }

    func testSmolLM2() throws {
        let tokenizer = try TestTokenizers.smollm2()
        checkStreaming(tokenizer)
        // 🍕 is F0 9F 8D 95: "ĠðŁ" (space F0 9F), "į" (8D), "ķ" (95) — the first two tokens
        // end inside the character, so only the space comes out before the third.
        let ids = tokenizer.encode(" 🍕")
        XCTAssertEqual(ids.count, 3)
        XCTAssertEqual(stream(tokenizer, ids), [" ", "", "🍕", ""])
    }

    func testGemma3ByteFallback() throws {
        let tokenizer = try TestTokenizers.gemma3()
        checkStreaming(tokenizer)
        // U+10FFFD has no piece: four <0xNN> byte tokens.
        let ids = tokenizer.encode("\u{10FFFD}")
        XCTAssertEqual(ids.map { tokenizer.tokenString($0) }, ["<0xF4>", "<0x8F>", "<0xBF>", "<0xBD>"])
        XCTAssertEqual(stream(tokenizer, ids), ["", "", "", "\u{10FFFD}", ""])
    }

    func testFlushEmitsUnfinishedCharacterAsReplacement() throws {
        let tokenizer = try TestTokenizers.gemma3()
        let ids = tokenizer.encode("a\u{10FFFD}")
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        XCTAssertEqual(decoder.append(ids[0]), "a")
        XCTAssertEqual(decoder.append(ids[1]), "")
        XCTAssertEqual(decoder.append(ids[2]), "")
        XCTAssertEqual(decoder.flush(), "\u{FFFD}")
        XCTAssertEqual(decoder.flush(), "")
        XCTAssertEqual(decoder.append(tokenizer.encode("b")[0]), "b", "the decoder goes on after a flush")
    }

    func testOutOfRangeIdsDecodeToNothing() throws {
        let tokenizer = try TestTokenizers.smollm2()
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        XCTAssertEqual(decoder.append(-1), "")
        XCTAssertEqual(decoder.append(tokenizer.vocabularySize), "")
        XCTAssertEqual(tokenizer.decode([-5, 1_000_000]), "")
        XCTAssertEqual(tokenizer.tokenBytes(-1), [])
        XCTAssertEqual(tokenizer.tokenString(1_000_000), "")
    }
}
