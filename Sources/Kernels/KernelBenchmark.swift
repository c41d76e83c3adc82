import CKernels
import COpenBLAS
import Dispatch

/// Micro-benchmark of the binary kernels on SmolLM2-135M's layer shapes and 4096×4096, against
/// OpenBLAS sgemv/sgemm on the same matrix in float32 (`pbllm-run bench --kernels`).
///
/// Weights stay hot in cache between calls (as in decode when the model fits in L3): the figures
/// are kernel throughput, not DRAM bandwidth. Each figure is the median of many timed batches.
public enum KernelBenchmark {
    public struct Shape: Sendable {
        public let name: String
        public let rows: Int
        public let k: Int
    }

    public static let shapes: [Shape] = [
        Shape(name: "attn q/o", rows: 576, k: 576),
        Shape(name: "attn k/v", rows: 192, k: 576),
        Shape(name: "ffn gate/up", rows: 1536, k: 576),
        Shape(name: "ffn down", rows: 576, k: 1536),
        Shape(name: "large", rows: 4096, k: 4096),
    ]

    /// Tokens per call in the prefill (GEMM) section (the runtime's batch).
    public static let prefillTokens = 64

    /// Fractions of salient weights in the "+ salient" rows (PB-LLM's usual 10%, and 50%).
    public static let salientFractions = [0.1, 0.5]

    /// The q8 output head (SmolLM2-135M's tied embeddings: 49152 × 576).
    public static let head = Shape(name: "q8 head", rows: 49152, k: 576)

    public struct Row: Sendable {
        public let section: String      // "gemv", "gemm", "prep", "head gemv", "head gemm"
        public let shape: String
        public let rows: Int
        public let k: Int
        public let kernel: String
        public let nanoseconds: Double  // per call (gemm: per call of `prefillTokens` tokens)
        public let bytes: Int           // weight bytes read per call (0 for prep)
        public var gigabytesPerSecond: Double { nanoseconds > 0 ? Double(bytes) / nanoseconds : 0 }
    }

    /// Runs every measurement; takes a few tens of seconds.
    public static func measure(threads: Int) -> [Row] {
        let threads = max(1, threads)
        let previousBLASThreads = openblas_get_num_threads()
        openblas_set_num_threads(Int32(threads))
        benchmarkPool = threads > 1 ? ThreadPool(threads: threads) : nil
        defer {
            openblas_set_num_threads(previousBLASThreads)
            benchmarkPool = nil
        }

        var out: [Row] = []
        var rng = BenchmarkRandom(seed: 0xB1_4A27)
        for shape in shapes {
            let (n, k) = (shape.rows, shape.k)
            let words = (k + 63) / 64
            var signs = [UInt64](repeating: 0, count: n * words)
            for i in 0..<n {
                for w in 0..<words {
                    let valid = min(64, k - w * 64)
                    signs[i * words + w] = rng.next() & (valid == 64 ? ~0 : (UInt64(1) << UInt64(valid)) - 1)
                }
            }
            let alpha = (0..<n).map { _ in Float(rng.unit() * 0.1 + 0.01) }
            let mu = (0..<n).map { _ in Float(rng.unit() * 0.02 - 0.01) }
            let x = (0..<(k * prefillTokens)).map { _ in Float(rng.unit() * 4 - 2) }
            guard let m = try? BinaryMatrix(name: shape.name, rows: n, k: k, signs: signs, alpha: alpha, mu: mu,
                                            variants: KernelVariant.allCases) else { continue }
            let sparse: [(Double, BinaryMatrix)] = salientFractions.compactMap { f in
                let salient = randomSalient(rows: n, k: k, fraction: f, rng: &rng)
                return (try? BinaryMatrix(name: shape.name, rows: n, k: k, signs: signs, alpha: alpha, mu: mu,
                                          salient: salient, variants: [KernelVariant.best])).map { (f, $0) }
            }

            let one = BinaryActivations(maxK: k)
            let batch = BinaryActivations(maxK: k, maxTokens: prefillTokens)
            one.prepare(x, k: k, needs: [.float, .bytes, .planes])
            batch.prepare(x, k: k, tokens: prefillTokens, needs: [.float, .bytes, .planes])
            var y = [Float](repeating: 0, count: n * prefillTokens)

            // Activation preparation, once per input vector (shared by every matrix reading it).
            for (label, needs) in [("float copy", ActivationNeeds.float), ("quantize", .bytes), ("quantize + planes", .planes)] {
                let ns = time { x.withUnsafeBufferPointer { one.prepare($0.baseAddress!, k: k, needs: needs) } }
                out.append(Row(section: "prep", shape: shape.name, rows: n, k: k, kernel: label, nanoseconds: ns, bytes: 0))
            }
            one.prepare(x, k: k, needs: [.float, .bytes, .planes])

            for v in KernelVariant.allAvailable {
                let ns = time { y.withUnsafeMutableBufferPointer { yp in
                    split(rows: n, block: v.rowBlock, threads: threads) { m.gemv(one, yp.baseAddress!, rows: $0, variant: v) }
                } }
                out.append(Row(section: "gemv", shape: shape.name, rows: n, k: k, kernel: v.rawValue, nanoseconds: ns,
                               bytes: m.weightBytes))
            }
            for (f, sm) in sparse {
                let v = KernelVariant.best
                let ns = time { y.withUnsafeMutableBufferPointer { yp in
                    split(rows: n, block: v.rowBlock, threads: threads) { sm.gemv(one, yp.baseAddress!, rows: $0, variant: v) }
                } }
                out.append(Row(section: "gemv", shape: shape.name, rows: n, k: k,
                               kernel: "\(v.rawValue) + \(Int(f * 100))% salient", nanoseconds: ns, bytes: sm.weightBytes))
            }

            // float32 baseline: the same ŵ = μ + α·s, dense.
            var dense = [Float](repeating: 0, count: n * k)
            for i in 0..<n {
                for j in 0..<k {
                    let s: Float = (signs[i * words + j / 64] >> UInt64(j % 64)) & 1 == 1 ? 1 : -1
                    dense[i * k + j] = mu[i] + alpha[i] * s
                }
            }
            let sgemv = time {
                cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), 1, dense, Int32(k), x, 1, 0, &y, 1)
            }
            out.append(Row(section: "gemv", shape: shape.name, rows: n, k: k, kernel: "OpenBLAS sgemv f32",
                           nanoseconds: sgemv, bytes: n * k * 4))

            // Prefill: `prefillTokens` vectors per call. The bit-by-bit scalar twins are left out.
            for v in KernelVariant.allAvailable where v != .scalarDot && v != .scalarFloat {
                let ns = time { y.withUnsafeMutableBufferPointer { yp in
                    split(rows: n, block: v.rowBlock, threads: threads) { m.gemm(batch, yp.baseAddress!, ldy: n, rows: $0, variant: v) }
                } }
                out.append(Row(section: "gemm", shape: shape.name, rows: n, k: k, kernel: v.rawValue, nanoseconds: ns,
                               bytes: m.weightBytes))
            }
            for (f, sm) in sparse {
                let v = KernelVariant.best
                let ns = time { y.withUnsafeMutableBufferPointer { yp in
                    split(rows: n, block: v.rowBlock, threads: threads) { sm.gemm(batch, yp.baseAddress!, ldy: n, rows: $0, variant: v) }
                } }
                out.append(Row(section: "gemm", shape: shape.name, rows: n, k: k,
                               kernel: "\(v.rawValue) + \(Int(f * 100))% salient", nanoseconds: ns, bytes: sm.weightBytes))
            }
            let sgemm = time {
                // Y (T×N) = X (T×K) · Wᵀ
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(prefillTokens), Int32(n), Int32(k), 1,
                            x, Int32(k), dense, Int32(k), 0, &y, Int32(n))
            }
            out.append(Row(section: "gemm", shape: shape.name, rows: n, k: k, kernel: "OpenBLAS sgemm f32",
                           nanoseconds: sgemm, bytes: n * k * 4))
        }
        out += measureHead(threads: threads, rng: &rng)
        return out
    }

    /// The q8 head: every q8 variant against OpenBLAS on the same weights in float32.
    static func measureHead(threads: Int, rng: inout BenchmarkRandom) -> [Row] {
        let (n, k) = (head.rows, head.k)
        let q = (0..<(n * k)).map { _ in Int8(Int(rng.next() % 255) - 127) }
        let scale = (0..<n).map { _ in Float(rng.unit() * 0.01 + 0.001) }
        guard let m = try? Q8Matrix(name: head.name, rows: n, k: k, q: q, scale: scale) else { return [] }
        var dense = [Float](repeating: 0, count: n * k)
        for i in 0..<n { for j in 0..<k { dense[i * k + j] = scale[i] * Float(q[i * k + j]) } }
        let x = (0..<(k * prefillTokens)).map { _ in Float(rng.unit() * 4 - 2) }
        var y = [Float](repeating: 0, count: n * prefillTokens)
        var out: [Row] = []
        for tokens in [1, prefillTokens] {
            let acts = BinaryActivations(maxK: k, maxTokens: tokens)
            acts.prepare(x, k: k, tokens: tokens, needs: .bytes)
            let section = tokens == 1 ? "head gemv" : "head gemm"
            for v in Q8Variant.allAvailable where tokens == 1 || v != .scalar {
                let ns = time { y.withUnsafeMutableBufferPointer { yp in
                    split(rows: n, block: v.rowBlock, threads: threads) { m.gemm(acts, yp.baseAddress!, ldy: n, rows: $0, variant: v) }
                } }
                out.append(Row(section: section, shape: head.name, rows: n, k: k, kernel: "q8 \(v.rawValue)", nanoseconds: ns,
                               bytes: m.weightBytes))
            }
            let ns = time {
                if tokens == 1 {
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), 1, dense, Int32(k), x, 1, 0, &y, 1)
                } else {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(tokens), Int32(n), Int32(k), 1,
                                x, Int32(k), dense, Int32(k), 0, &y, Int32(n))
                }
            }
            out.append(Row(section: section, shape: head.name, rows: n, k: k,
                           kernel: tokens == 1 ? "OpenBLAS sgemv f32" : "OpenBLAS sgemm f32", nanoseconds: ns, bytes: n * k * 4))
        }
        return out
    }

    /// The report: markdown tables (like llama-bench), or JSON.
    public static func run(threads: Int, json: Bool) -> String {
        let rows = measure(threads: threads)
        return json ? renderJSON(rows, threads: threads) : renderMarkdown(rows, threads: threads)
    }

    // MARK: - Timing

    /// Median nanoseconds per call of `body`: batches long enough to dwarf the clock's cost, and as
    /// many batches as fit in about 0.3 s (at least 5, at most 41).
    static func time(_ body: () -> Void) -> Double {
        body()   // warm caches and page in
        var reps = 1
        var batch = 0.0
        while true {
            batch = elapsed(reps, body)
            if batch >= 50_000 || reps >= 1 << 20 { break }
            reps *= 2
        }
        let samples = min(41, max(5, Int(300_000_000 / batch)))
        var times = (0..<samples).map { _ in elapsed(reps, body) / Double(reps) }
        times.sort()
        return times[samples / 2]
    }

    private static func elapsed(_ reps: Int, _ body: () -> Void) -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<reps { body() }
        return Double(DispatchTime.now().uptimeNanoseconds - t0)
    }

    /// Splits [0, rows) into `threads` ranges at multiples of `block` and runs them on the benchmark's
    /// pool (one range on this thread when threads = 1); with several threads the figures include
    /// the fork-join cost.
    private static func split(rows: Int, block: Int, threads: Int, _ body: (Range<Int>) -> Void) {
        guard threads > 1, let pool = benchmarkPool, pool.threads == threads else { return body(0..<rows) }
        pool.forEachRange(0..<rows, block: block, body)
    }

    nonisolated(unsafe) private static var benchmarkPool: ThreadPool?

    private static func randomSalient(rows: Int, k: Int, fraction: Double, rng: inout BenchmarkRandom) -> SalientWeights {
        var start: [UInt32] = [0], columns: [UInt16] = [], values: [Float] = []
        for _ in 0..<rows {
            for j in 0..<k where rng.unit() < fraction {
                columns.append(UInt16(j))
                values.append(Float(rng.unit() - 0.5))
            }
            start.append(UInt32(columns.count))
        }
        return SalientWeights(rows: rows, start: start, columns: columns, values: values)
    }

    // MARK: - Rendering

    private static func fixed(_ v: Double, _ digits: Int) -> String {
        var s = String(Int((v * pow10(digits)).rounded()))
        if digits == 0 { return s }
        let negative = s.hasPrefix("-")
        if negative { s.removeFirst() }
        while s.count <= digits { s = "0" + s }
        s.insert(".", at: s.index(s.endIndex, offsetBy: -digits))
        return negative ? "-" + s : s
    }

    private static func pow10(_ n: Int) -> Double { (0..<n).reduce(1.0) { r, _ in r * 10 } }

    private static func renderMarkdown(_ rows: [Row], threads: Int) -> String {
        var s = "# Binary kernels — CPU: \(CPUFeatures.current), threads: \(threads), best: \(KernelVariant.best), "
            + "OpenBLAS core: \(String(cString: openblas_get_corename()))\n\n"
        s += "## GEMV (one token): ns per call, median; GB/s of weight bytes (sign bits + α, μ [+ salient])\n\n"
        s += "| shape | N×K | kernel | ns/call | GB/s | × sgemv |\n|---|---|---|---:|---:|---:|\n"
        var winners: [String] = []
        for shape in shapes {
            let g = rows.filter { $0.section == "gemv" && $0.shape == shape.name }
            guard let base = g.first(where: { $0.kernel.hasPrefix("OpenBLAS") }) else { continue }
            for r in g {
                s += "| \(shape.name) | \(shape.rows)×\(shape.k) | \(r.kernel) | \(fixed(r.nanoseconds, 0)) | "
                    + "\(fixed(r.gigabytesPerSecond, 1)) | \(fixed(base.nanoseconds / r.nanoseconds, 1)) |\n"
            }
            let dense = g.filter { !$0.kernel.contains("salient") && !$0.kernel.hasPrefix("OpenBLAS") }
            if let w = dense.min(by: { $0.nanoseconds < $1.nanoseconds }) {
                winners.append("| \(shape.name) | \(shape.rows)×\(shape.k) | \(w.kernel) | \(fixed(w.nanoseconds, 0)) | "
                    + "\(fixed(base.nanoseconds / w.nanoseconds, 1)) |")
            }
        }
        s += "\n### Winner per shape\n\n| shape | N×K | kernel | ns/call | × sgemv |\n|---|---|---|---:|---:|\n"
        s += winners.joined(separator: "\n") + "\n"

        s += "\n## Prefill GEMM, \(prefillTokens) tokens per call: ns per token\n\n"
        s += "| shape | N×K | kernel | ns/token | × sgemm |\n|---|---|---|---:|---:|\n"
        for shape in shapes {
            let g = rows.filter { $0.section == "gemm" && $0.shape == shape.name }
            guard let base = g.first(where: { $0.kernel.hasPrefix("OpenBLAS") }) else { continue }
            for r in g {
                s += "| \(shape.name) | \(shape.rows)×\(shape.k) | \(r.kernel) | "
                    + "\(fixed(r.nanoseconds / Double(prefillTokens), 0)) | \(fixed(base.nanoseconds / r.nanoseconds, 1)) |\n"
            }
        }

        s += "\n## q8 output head \(head.rows)×\(head.k): µs per token; GB/s of weight bytes\n\n"
        s += "| product | kernel | µs/token | GB/s | × OpenBLAS |\n|---|---|---:|---:|---:|\n"
        for section in ["head gemv", "head gemm"] {
            let g = rows.filter { $0.section == section }
            guard let base = g.first(where: { $0.kernel.hasPrefix("OpenBLAS") }) else { continue }
            let tokens = Double(section == "head gemv" ? 1 : prefillTokens)
            for r in g {
                s += "| \(section == "head gemv" ? "gemv" : "gemm ×\(prefillTokens)") | \(r.kernel) | "
                    + "\(fixed(r.nanoseconds / tokens / 1000, 1)) | \(fixed(r.gigabytesPerSecond, 1)) | "
                    + "\(fixed(base.nanoseconds / r.nanoseconds, 1)) |\n"
            }
        }

        s += "\n## Activation preparation (once per input vector): ns\n\n| K | step | ns |\n|---:|---|---:|\n"
        var seen = Set<Int>()
        for shape in shapes where !seen.contains(shape.k) {
            seen.insert(shape.k)
            for r in rows where r.section == "prep" && r.shape == shape.name {
                s += "| \(shape.k) | \(r.kernel) | \(fixed(r.nanoseconds, 0)) |\n"
            }
        }
        return s
    }

    private static func renderJSON(_ rows: [Row], threads: Int) -> String {
        func quoted(_ s: String) -> String {   // names here hold no control characters
            "\"" + s.flatMap { $0 == "\"" || $0 == "\\" ? ["\\", $0] : [$0] } + "\""
        }
        let items = rows.map { r in
            "{\"section\":\(quoted(r.section)),\"shape\":\(quoted(r.shape)),\"rows\":\(r.rows),\"k\":\(r.k),"
                + "\"kernel\":\(quoted(r.kernel)),\"ns\":\(fixed(r.nanoseconds, 1)),\"bytes\":\(r.bytes),"
                + "\"gbps\":\(fixed(r.gigabytesPerSecond, 3))}"
        }
        return "{\"cpu\":\(quoted(CPUFeatures.current.description)),\"threads\":\(threads),"
            + "\"openblas_core\":\(quoted(String(cString: openblas_get_corename()))),"
            + "\"best\":\(quoted(KernelVariant.best.rawValue)),\"prefill_tokens\":\(prefillTokens),\"results\":[\n"
            + items.joined(separator: ",\n") + "\n]}\n"
    }
}

/// SplitMix64, so the benchmark's data is the same on every run.
struct BenchmarkRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }
}
