import COpenBLAS

/// The factor GPTQ works with: the upper Cholesky factor U of H⁻¹ (H⁻¹ = Uᵀ·U), after GPTQ's
/// dampening (H += percdamp·mean(diag H)·I) and its handling of dead inputs (diag H = 0: the
/// column's weights can be anything, so they are zeroed and H[j,j] set to 1).
struct InverseHessian {
    let columns: Int
    let upper: [Float]     // K×K row-major, upper triangle of U (lower triangle zero)
    let deadColumns: [Int]

    enum Failure: Error, CustomStringConvertible {
        case notPositiveDefinite(step: String, info: Int32)
        var description: String {
            switch self {
            case let .notPositiveDefinite(step, info):
                "the Hessian is not positive definite (\(step) failed at column \(info)); raise --percdamp"
            }
        }
    }

    init(hessian h: [Float], columns k: Int, percentDamp: Double) throws {
        columns = k
        // Double precision: the factorisation of an ill-conditioned H loses too much in float.
        var a = h.map(Double.init)
        var dead: [Int] = []
        for j in 0..<k where a[j * k + j] == 0 { a[j * k + j] = 1; dead.append(j) }
        deadColumns = dead
        let meanDiagonal = (0..<k).reduce(0.0) { $0 + a[$1 * k + $1] } / Double(k)
        for j in 0..<k { a[j * k + j] += percentDamp * meanDiagonal }

        // LAPACK is column-major; H is symmetric, so row-major and column-major agree until
        // we read back a triangle. Factor, invert, factor again.
        var n = Int32(k), info: Int32 = 0
        var uplo = CChar(UInt8(ascii: "L"))
        dpotrf_(&uplo, &n, &a, &n, &info, 1)
        guard info == 0 else { throw Failure.notPositiveDefinite(step: "Cholesky of H", info: info) }
        dpotri_(&uplo, &n, &a, &n, &info, 1)
        guard info == 0 else { throw Failure.notPositiveDefinite(step: "inverse of H", info: info) }
        // potri filled the lower triangle (column-major) of H⁻¹; mirror it into a full matrix.
        for c in 0..<k { for r in c..<k { a[r * k + c] = a[c * k + r] } }
        // Column-major lower triangle at (r ≥ c) lives at a[c*k + r]; row-major view = its transpose.
        uplo = CChar(UInt8(ascii: "U"))
        dpotrf_(&uplo, &n, &a, &n, &info, 1)
        guard info == 0 else { throw Failure.notPositiveDefinite(step: "Cholesky of H⁻¹", info: info) }
        // Column-major upper U: element (r ≤ c) at a[c*k + r]; store it row-major.
        var u = [Float](repeating: 0, count: k * k)
        for c in 0..<k { for r in 0...c { u[r * k + c] = Float(a[c * k + r]) } }
        upper = u
    }

    var diagonal: [Float] { (0..<columns).map { upper[$0 * columns + $0] } }
}
