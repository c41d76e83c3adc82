import Foundation
import TestSupport
import XCTest

/// `chat` in a real pseudo-terminal (util-linux `script` provides one): the interactive prompt,
/// a streamed reply, Ctrl-D and Ctrl-C at an empty prompt quitting cleanly.
///
/// Keys are typed only once the terminal shows what they answer (`await` polls the transcript),
/// so the tests do not depend on how long the model takes to load on a busy machine.
final class ChatTerminalTests: XCTestCase {
    let model = Paths.model("smollm2-135m").path

    /// Runs chat under `script`; `keys` is a shell snippet that may call `await TEXT` (until the
    /// terminal shows TEXT) or `grow N` (until N more bytes have been printed) before typing.
    /// Returns the terminal transcript and chat's exit status (printed by the shell as `exit=N`).
    func runInTerminal(_ keys: String, maxReply: Int = 16) throws -> (transcript: String, status: Int32?) {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { throw XCTSkip("no /usr/bin/script") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pbllm-tty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let transcript = dir.appendingPathComponent("transcript").path
        // chat is exec'd by script's shell: no shell stands between it and the terminal, since a
        // shell that also gets the ^C (dash, the /bin/sh script uses when $SHELL is unset) dies
        // of it after chat exits. `script -e` returns chat's status; the keys come through a FIFO
        // held open to the end, so script never sees end of input.
        let driver = """
            give_up() { kill $chat 2>/dev/null; exit 1; }
            await() { i=0; until grep -q -F -- "$1" '\(transcript)' 2>/dev/null; do
              i=$((i+1)); [ $i -gt 1200 ] && give_up; sleep 0.1; done; }
            grow() { size=$(wc -c < '\(transcript)'); i=0; until [ $(wc -c < '\(transcript)') -ge $((size+$1)) ]; do
              i=$((i+1)); [ $i -gt 1200 ] && give_up; sleep 0.05; done; }
            : > '\(transcript)'
            mkfifo '\(dir.path)/keys'
            SHELL=/bin/sh timeout 180 /usr/bin/script -q -e -c \
              "exec '\(CLI.binary.path)' chat -m '\(model)' --temp 0 -n \(maxReply)" /dev/null \
              < '\(dir.path)/keys' > '\(transcript)' &
            chat=$!
            exec 3> '\(dir.path)/keys'
            ( \(keys) ) >&3
            wait $chat; echo "exit=$?" >> '\(transcript)'
            """
        let driverPath = dir.appendingPathComponent("driver.sh").path
        try driver.write(toFile: driverPath, atomically: true, encoding: .utf8)
        _ = try CLI.run(["/bin/sh", driverPath], executable: URL(fileURLWithPath: "/bin/sh"))
        let text = (try? String(contentsOfFile: transcript, encoding: .utf8)) ?? ""
        let status = text.range(of: #"exit=(\d+)"#, options: .regularExpression).flatMap { Int32(text[$0].dropFirst(5)) }
        return (text, status)
    }

    func testInteractiveTurnThenCtrlD() throws {
        let r = try runInTerminal("await '> '; printf 'What is 2+2?\\n'; await 'What is 2+2?'; sleep 1; printf '\\004'")
        XCTAssertEqual(r.status, 0, r.transcript)
        XCTAssertTrue(r.transcript.contains("4"), "the reply streamed: \(r.transcript)")
    }

    func testCtrlCAtEmptyPromptQuits() throws {
        let r = try runInTerminal("await '> '; printf '\\003'")
        XCTAssertEqual(r.status, 0, r.transcript)
        XCTAssertTrue(r.transcript.contains("> "), r.transcript)
    }

    /// Ctrl-C in the middle of a long reply stops that reply; the session goes on (a second turn
    /// is answered) and Ctrl-D then quits. ^C is typed once the reply has streamed some text.
    func testCtrlCDuringAReplyReturnsToThePrompt() throws {
        let r = try runInTerminal("""
            await '> '; printf 'Write a very long story about a dragon.\\n'; await 'dragon.'; grow 40; printf '\\003'
            await '(reply stopped)'; printf 'What is 2+2?\\n'; await 'What is 2+2?'; sleep 1; printf '\\004'
            """, maxReply: 400)
        XCTAssertEqual(r.status, 0, r.transcript)
        XCTAssertTrue(r.transcript.contains("(reply stopped)"), r.transcript)
        // The second question is answered: text after its echo, before the shell's exit line.
        let answer = (r.transcript.components(separatedBy: "What is 2+2?").last ?? "").components(separatedBy: "exit=")[0]
        XCTAssertTrue(answer.contains { $0.isLetter || $0.isNumber }, "the next turn is answered: \(r.transcript)")
    }
}
