import Foundation
import Tokenizer
import XCTest

/// Golden vectors from Hugging Face tokenizers (shared/reference/tokenizer-vectors-*.json).
final class FixtureTests: XCTestCase {
    func testSmolLM2Cases() throws {
        try checkCases(try TestTokenizers.smollm2(), try TokenizerFixture.load("tokenizer-vectors-smollm2-135m.json"))
    }

    func testGemma3Cases() throws {
        try checkCases(try TestTokenizers.gemma3(), try TokenizerFixture.load("tokenizer-vectors-gemma3-270m.json"))
    }

    func testSmolLM2WikiText() throws {
        try checkWikiText(try TestTokenizers.smollm2(), try TokenizerFixture.load("tokenizer-vectors-smollm2-135m.json"))
    }

    func testGemma3WikiText() throws {
        try checkWikiText(try TestTokenizers.gemma3(), try TokenizerFixture.load("tokenizer-vectors-gemma3-270m.json"))
    }

    func testSpecialTokenIds() throws {
        for (tokenizer, fixture) in [
            (try TestTokenizers.smollm2(), try TokenizerFixture.load("tokenizer-vectors-smollm2-135m.json")),
            (try TestTokenizers.gemma3(), try TokenizerFixture.load("tokenizer-vectors-gemma3-270m.json")),
        ] {
            XCTAssertEqual(tokenizer.vocabularySize, fixture.vocabSize)
            XCTAssertEqual(tokenizer.bosId, fixture.specialTokenIds["bos_token"])
            XCTAssertEqual(tokenizer.eosId, fixture.specialTokenIds["eos_token"])
            XCTAssertEqual(tokenizer.unkId, fixture.specialTokenIds["unk_token"])
            XCTAssertEqual(tokenizer.padId, fixture.specialTokenIds["pad_token"])
        }
    }

    private func checkCases(_ tokenizer: Tokenizer, _ fixture: TokenizerFixture,
                            file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertGreaterThan(fixture.cases.count, 50, file: file, line: line)
        var passed = 0
        for c in fixture.cases {
            let text = c.text
            let ids = tokenizer.encode(text)
            XCTAssertEqual(ids, c.ids, "encode \(c.id) \(text.debugDescription)", file: file, line: line)
            let decoded = tokenizer.decode(c.ids)
            XCTAssertEqual(decoded, c.decoded, "decode \(c.id)", file: file, line: line)
            if c.roundtripExact { XCTAssertEqual(decoded, text, "round trip \(c.id)", file: file, line: line) }
            // Hugging Face spells Gemma's user-defined whitespace tokens with "▁"; the GGUF file
            // stores real spaces, so compare vocabulary strings of the other tokens only.
            for (id, token) in zip(c.ids, c.tokens) where tokenizer.tokenType(id) != .userDefined {
                XCTAssertEqual(tokenizer.tokenString(id), token, "token \(id) in \(c.id)", file: file, line: line)
            }
            if ids == c.ids && decoded == c.decoded { passed += 1 }
        }
        print("\(fixture.cases.count) cases, \(passed) pass")
    }

    private func checkWikiText(_ tokenizer: Tokenizer, _ fixture: TokenizerFixture,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let text = try wikitext()
        let prefix = scalarPrefix(text, fixture.wikitextPrefix.chars)
        XCTAssertEqual(prefix.utf8.count, fixture.wikitextPrefix.utf8Bytes, file: file, line: line)
        XCTAssertEqual(tokenizer.encode(prefix), fixture.wikitextPrefix.ids, file: file, line: line)

        let clock = ContinuousClock()
        var ids: [Int] = []
        let elapsed = clock.measure { ids = tokenizer.encode(text) }
        print("WikiText-2 test file, \(text.utf8.count) bytes: \(ids.count) tokens in \(elapsed)")
        XCTAssertEqual(ids.count, fixture.wikitextFullTokenCount, file: file, line: line)
        XCTAssertEqual(tokenizer.decode(ids), text, "the whole file decodes back", file: file, line: line)
    }
}
