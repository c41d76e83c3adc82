/// The weights every decoder layer here has: the two pre-norms, the attention projections and
/// the gated feed-forward. A Llama layer is exactly this; Gemma 3 adds its own norms around it.
public struct DecoderLayerWeights {
    var attentionNorm: FloatBuffer          // dim
    var q, k, v, o: LinearLayer             // dim → qDim, kvDim, kvDim; qDim → dim
    var ffnNorm: FloatBuffer                // dim
    var gate, up, down: LinearLayer         // dim → ffn, dim → ffn, ffn → dim

    /// The linear layers by their GGUF names, in the order their inputs are computed
    /// (`LanguageModel.linearLayers`).
    var linearLayers: [(name: String, layer: LinearLayer)] {
        [("attn_q", q), ("attn_k", k), ("attn_v", v), ("attn_output", o),
         ("ffn_gate", gate), ("ffn_up", up), ("ffn_down", down)]
    }
}
