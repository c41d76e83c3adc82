import Foundation
import TestSupport
import XCTest

/// `chat` through a pipe and `bench --json`, as scripts would use them.
final class ChatAndBenchTests: XCTestCase {
    let model = Paths.model("smollm2-135m").path
    static let system = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"

    /// SmolLM2-Instruct's ChatML, rendered by hand for the comparison.
    func render(_ turns: [(String, String?)]) -> String {
        var text = "<|im_start|>system\n\(Self.system)<|im_end|>\n"
        for (user, reply) in turns {
            text += "<|im_start|>user\n\(user)<|im_end|>\n<|im_start|>assistant\n"
            if let reply { text += reply + "<|im_end|>\n" }
        }
        return text
    }

    func testTwoTurnChatEqualsOneRunOfTheWholeConversation() throws {
        let first = "What is the capital of France?", second = "What did I just ask you about?"
        let chat = try CLI.run(["chat", "-m", model, "--temp", "0", "-n", "48"], stdin: "\(first)\n\(second)\n")
        XCTAssertEqual(chat.status, 0, chat.stderr)
        let replies = chat.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertGreaterThanOrEqual(replies.count, 2, chat.stdout)
        // The first reply alone, then the second given the first: both through `run` in one go.
        let one = try CLI.json(try CLI.run(["run", "-m", model, "--temp", "0", "-n", "48", "--json", "-p", render([(first, nil)])]))
        let reply1 = one["text"] as! String
        XCTAssertTrue(chat.stdout.hasPrefix(reply1), "chat: \(chat.stdout)\nrun: \(reply1)")
        let two = try CLI.json(try CLI.run(["run", "-m", model, "--temp", "0", "-n", "48", "--json",
                                            "-p", render([(first, reply1), (second, nil)])]))
        XCTAssertEqual(chat.stdout, reply1 + "\n" + (two["text"] as! String) + "\n")
    }

    func testChatCommandsAndEmptyInput() throws {
        let r = try CLI.run(["chat", "-m", model, "--temp", "0", "-n", "8"], stdin: "/help\n\n/stats\nHi\n/reset\n/stats\n")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("/reset"))
        XCTAssertTrue(r.stdout.contains("context: 0/"), "after /reset the context is empty: \(r.stdout)")
        XCTAssertTrue(r.stderr.contains("conversation reset"))
    }

    func testBenchJSONHasEveryField() throws {
        let r = try CLI.run(["bench", "-m", model, "-p", "16", "-n", "4", "-r", "2", "-t", "1,2", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 4, "pp and tg for two thread counts")
        for line in lines {
            let row = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            for key in ["model", "file_bytes", "bits_per_weight", "threads", "test", "tokens_per_second",
                        "tokens_per_second_sd", "peak_rss_bytes", "samples"] {
                XCTAssertNotNil(row[key], "\(key) in \(line)")
            }
            XCTAssertGreaterThan(row["tokens_per_second"] as! Double, 0)
            XCTAssertEqual((row["samples"] as! [Double]).count, 2)
        }
    }
}
