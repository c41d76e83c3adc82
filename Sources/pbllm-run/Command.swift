/// A subcommand of pbllm-run: its options, its help, and what it does.
protocol Command {
    static var name: String { get }
    static var synopsis: String { get }
    static var summary: String { get }
    static var options: [Option] { get }
    static func run(_ args: ParsedArguments) throws
}

extension Command {
    static var help: String { usage(synopsis, summary, options + [Option(names: ["-h", "--help"], value: nil, help: "show this help")]) }
}
