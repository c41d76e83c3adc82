import Tokenizer
import XCTest

/// The hand-written word splitters against the regular expressions they stand for. Expected
/// splits come from Python's `regex` module running the Hugging Face expressions (for "smollm":
/// each \p{N} character cut out first, then the GPT-2 expression on each piece).
final class PreTokenizerTests: XCTestCase {
    private func split(_ name: String, _ text: String) throws -> [String] {
        let pre = try PreTokenizer(name: name, source: nil)
        let bytes = Array(text.utf8)
        var words: [String] = []
        bytes.withUnsafeBufferPointer { buffer in
            pre.split(buffer) { words.append(String(decoding: bytes[$0], as: UTF8.self)) }
        }
        return words
    }

    private let texts = [
        "Hello world's 12345 apples!!  \n\n  x",
        "I'M HERE'S 'll 2024\r\n\r\n  tabs\tand\u{A0}nbsp",
        "   a 1 ٣٤ ½ ...?!",
        "don't\n\n\nstop  ",
        "x   42 y",
    ]

    func testGPT2() throws {
        let expected: [[String]] = [
            ["Hello", " world", "'s", " 12345", " apples", "!!", "  \n\n ", " x"],
            ["I", "'", "M", " HERE", "'", "S", " '", "ll", " 2024", "\r\n\r\n ", " tabs", "\t", "and", "\u{A0}", "nbsp"],
            ["  ", " a", " 1", " ٣٤", " ½", " ...?!"],
            ["don", "'t", "\n\n", "\n", "stop", "  "],
            ["x", "  ", " 42", " y"],
        ]
        for (text, want) in zip(texts, expected) { XCTAssertEqual(try split("gpt2", text), want) }
        XCTAssertEqual(try split("default", texts[0]), expected[0])
    }

    func testSmolLMSplitsEveryDigit() throws {
        let expected: [[String]] = [
            ["Hello", " world", "'s", " ", "1", "2", "3", "4", "5", " apples", "!!", "  \n\n ", " x"],
            ["I", "'", "M", " HERE", "'", "S", " '", "ll", " ", "2", "0", "2", "4", "\r\n\r\n ", " tabs", "\t", "and", "\u{A0}", "nbsp"],
            ["  ", " a", " ", "1", " ", "٣", "٤", " ", "½", " ...?!"],
            ["don", "'t", "\n\n", "\n", "stop", "  "],
            ["x", "   ", "4", "2", " y"],
        ]
        for (text, want) in zip(texts, expected) { XCTAssertEqual(try split("smollm", text), want) }
    }

    func testLlama3() throws {
        let expected: [[String]] = [
            ["Hello", " world", "'s", " ", "123", "45", " apples", "!!", "  \n\n", " ", " x"],
            ["I", "'M", " HERE", "'S", " '", "ll", " ", "202", "4", "\r\n\r\n", " ", " tabs", "\tand", "\u{A0}nbsp"],
            ["  ", " a", " ", "1", " ", "٣٤", " ", "½", " ...?!"],
            ["don", "'t", "\n\n\n", "stop", "  "],
            ["x", "  ", " ", "42", " y"],
        ]
        for (text, want) in zip(texts, expected) { XCTAssertEqual(try split("llama-bpe", text), want) }
    }

    func testQwen2() throws {
        let expected: [[String]] = [
            ["Hello", " world", "'s", " ", "1", "2", "3", "4", "5", " apples", "!!", "  \n\n", " ", " x"],
            ["I", "'M", " HERE", "'S", " '", "ll", " ", "2", "0", "2", "4", "\r\n\r\n", " ", " tabs", "\tand", "\u{A0}nbsp"],
            ["  ", " a", " ", "1", " ", "٣", "٤", " ", "½", " ...?!"],
            ["don", "'t", "\n\n\n", "stop", "  "],
            ["x", "  ", " ", "4", "2", " y"],
        ]
        for (text, want) in zip(texts, expected) { XCTAssertEqual(try split("qwen2", text), want) }
    }

    func testWordsTileTheText() throws {
        let text = "mixed \t\n whitespace \n\t end 🏳️‍🌈 é vs e\u{301} ﻿BOM"
        for name in PreTokenizer.supportedNames {
            XCTAssertEqual(try split(name, text).joined(), text, name)
        }
        XCTAssertEqual(try split("gpt2", ""), [])
    }
}
