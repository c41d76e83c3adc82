import Foundation

public enum System {
    /// Cores this process may run on.
    public static var coreCount: Int { ProcessInfo.processInfo.activeProcessorCount }
}
