import Foundation

public enum System {
    /// Cores this process may run on.
    public static var coreCount: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// Peak resident set size of this process in bytes (VmHWM), 0 if unknown.
    public static func peakResidentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kb * 1024
    }

    /// Resets the peak to the current resident size (Linux ≥ 4.0), so one process can report the
    /// peak of each model it benchmarks in turn.
    public static func resetPeakResident() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }
}
