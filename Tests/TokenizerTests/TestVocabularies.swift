import Foundation
import GGUF
import TestSupport
import Tokenizer

/// Reads the tokenizer of a GGUF file, the way the Runtime does: `tokenizer.ggml.*` keys to
/// `TokenizerVocabulary`, with llama.cpp's defaults for keys a file leaves out.
func loadVocabulary(_ url: URL) throws -> TokenizerVocabulary {
    let file = try GGUFFile(path: url.path)
    func key(_ name: String) -> GGUFValue? { file.metadata["tokenizer.ggml." + name] }
    let model = key("model")?.string ?? ""
    return TokenizerVocabulary(
        model: model, pre: key("pre")?.string,
        tokens: key("tokens")?.stringArray ?? [],
        tokenTypes: key("token_type")?.intArray,
        scores: key("scores")?.floatArray,
        merges: key("merges")?.stringArray,
        bosId: key("bos_token_id")?.int, eosId: key("eos_token_id")?.int,
        unkId: key("unknown_token_id")?.int, padId: key("padding_token_id")?.int,
        addBos: key("add_bos_token")?.bool ?? (model == "llama"),
        addEos: key("add_eos_token")?.bool ?? false,
        addSpacePrefix: key("add_space_prefix")?.bool ?? (model == "llama"),
        eotId: key("eot_token_id")?.int,
        source: url.path)
}

/// The two models' tokenizers, loaded once for all tests.
enum TestTokenizers {
    private static let smollm2Result = Result { try Tokenizer(loadVocabulary(Paths.model("smollm2-135m"))) }
    private static let gemma3Result = Result { try Tokenizer(loadVocabulary(Paths.model("gemma3-270m"))) }

    static func smollm2() throws -> Tokenizer { try smollm2Result.get() }
    static func gemma3() throws -> Tokenizer { try gemma3Result.get() }
}

/// `shared/reference/tokenizer-vectors-*.json`. Decoded with `JSONDecoder`: Foundation's
/// `JSONSerialization` drops a byte-order mark at the start of a string (case odd-04).
struct TokenizerFixture: Decodable {
    struct Case: Decodable {
        let id: String
        let textUtf8Hex: String
        let ids: [Int]
        let tokens: [String]
        let decoded: String
        let roundtripExact: Bool

        /// The input, from its UTF-8 bytes (authoritative).
        var text: String { String(decoding: hexBytes(textUtf8Hex), as: UTF8.self) }
    }
    struct WikitextPrefix: Decodable {
        let chars: Int
        let utf8Bytes: Int
        let ids: [Int]
    }
    let vocabSize: Int
    let specialTokenIds: [String: Int]
    let cases: [Case]
    let wikitextPrefix: WikitextPrefix
    let wikitextFullTokenCount: Int

    static func load(_ name: String) throws -> TokenizerFixture {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(TokenizerFixture.self, from: Data(contentsOf: Paths.reference(name)))
    }
}

func hexBytes(_ hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    return stride(from: 0, to: digits.count - 1, by: 2).map {
        UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)!
    }
}

/// The WikiText-2 test file exactly as stored (CRLF line endings kept).
func wikitext() throws -> String {
    String(decoding: try Data(contentsOf: Paths.data("wikitext-2-raw-test.txt")), as: UTF8.self)
}

/// The first `count` Unicode scalars of `text` (Python's `str[:count]`; a Swift `Character`
/// would swallow "\r\n" whole).
func scalarPrefix(_ text: String, _ count: Int) -> String {
    var scalars = String.UnicodeScalarView()
    scalars.append(contentsOf: text.unicodeScalars.prefix(count))
    return String(scalars)
}
