// swift-tools-version:6.0
import PackageDescription

// Optimise the C kernels fully in release builds; SwiftPM's default is -O2 with no -march.
let cKernelFlags: [CSetting] = [.unsafeFlags(["-O3"], .when(configuration: .release))]

let package = Package(
    name: "pbllm",
    products: [
        .executable(name: "pbllm-run", targets: ["pbllm-run"]),
    ],
    targets: [
        // OpenBLAS (BLAS + LAPACK) from Debian's libopenblas-dev.
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        // zstd from Debian's libzstd-dev (salient-position bitmaps in .pbllm files).
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),
        // Hand-written SIMD kernels (AVX-512, AVX2, scalar), chosen at run time.
        .target(name: "CKernels", path: "Sources/CKernels", cSettings: cKernelFlags),
        // Swift face of the kernels: float ops, BLAS wrappers, binary GEMV dispatch.
        .target(name: "Kernels", dependencies: ["CKernels", "COpenBLAS"]),
        // The GGUF container: parsing, validation, memory mapping, dequantization, writing.
        .target(name: "GGUF"),
        // Text <-> token ids: byte-level BPE and SentencePiece.
        .target(name: "Tokenizer"),
        // The .pbllm container (formats/pbllm.md): writer, validating reader, PB layer layout.
        .target(name: "PBFormat", dependencies: ["GGUF", "CZstd"]),
        // Models, KV cache, generation, perplexity.
        .target(name: "Runtime", dependencies: ["GGUF", "PBFormat", "Tokenizer", "Kernels"]),
        // PB-LLM quantization (round-to-nearest and GPTQ-PB) and conversion to .pbllm.
        .target(name: "Quantizer", dependencies: ["Runtime", "PBFormat", "Kernels", "COpenBLAS"]),
        // Paths to fixtures and models, for the tests only.
        .target(name: "TestSupport"),
        // The command-line interface.
        .executableTarget(name: "pbllm-run", dependencies: ["Runtime", "Quantizer", "Kernels"]),

        .testTarget(name: "GGUFTests", dependencies: ["GGUF", "TestSupport"]),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer", "GGUF", "TestSupport"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "CKernels", "TestSupport"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "TestSupport"]),
        .testTarget(name: "PBFormatTests", dependencies: ["PBFormat", "GGUF", "TestSupport"]),
        .testTarget(name: "QuantizerTests", dependencies: ["Quantizer", "PBFormat", "Runtime", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["GGUF", "Runtime", "Tokenizer", "TestSupport"]),
    ]
)
