import Foundation
import TestSupport
import XCTest

/// `chat` in a real pseudo-terminal (util-linux `script` provides one): the interactive prompt,
/// a streamed reply, Ctrl-D and Ctrl-C at an empty prompt quitting cleanly.
final class ChatTerminalTests: XCTestCase {
    let model = Paths.model("smollm2-135m").path

    /// Runs chat under `script` with `keys`, a shell snippet writing to the terminal over time.
    func runInTerminal(_ keys: String) throws -> CLI.Result {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { throw XCTSkip("no /usr/bin/script") }
        let command = "\(CLI.binary.path) chat -m '\(model)' --temp 0 -n 16"
        return try CLI.run(["/bin/sh", "-c", "(\(keys); sleep 15) | timeout 120 /usr/bin/script -q -e -c \"\(command)\" /dev/null"],
                           executable: URL(fileURLWithPath: "/bin/sh"))
    }

    func testInteractiveTurnThenCtrlD() throws {
        let r = try runInTerminal("printf 'What is 2+2?\\n'; sleep 1; printf '\\004'")
        XCTAssertEqual(r.status, 0, r.stdout)
        XCTAssertTrue(r.stdout.contains("> "), "prompt shown: \(r.stdout)")
        XCTAssertTrue(r.stdout.contains("4"), "the reply streamed: \(r.stdout)")
    }

    func testCtrlCAtEmptyPromptQuits() throws {
        let r = try runInTerminal("sleep 4; printf '\\003'")
        XCTAssertEqual(r.status, 0, r.stdout)
        XCTAssertTrue(r.stdout.contains("> "), r.stdout)
    }
}
