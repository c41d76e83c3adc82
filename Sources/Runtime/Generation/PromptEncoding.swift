import Tokenizer

extension Tokenizer {
    /// A prompt's ids as llama.cpp forms them: special-token strings parsed, BOS prepended only
    /// when the model asks for it and the text does not already start with it (no double BOS).
    public func encodePrompt(_ text: String) -> [Int] {
        var ids = encode(text, addSpecial: false, parseSpecial: true)
        if addBos, let bos = bosId, ids.first != bos { ids.insert(bos, at: 0) }
        return ids
    }
}
