import Foundation

/// A small llama.cpp-style option parser: `-m MODEL`, `--temp 0.7`, `--json`, positionals.
/// Each command declares its options, so `--help` and "unknown option" errors come for free.
struct Option {
    let names: [String]          // e.g. ["-m", "--model"]
    let value: String?           // placeholder for the value ("MODEL"), nil for a flag
    let help: String
}

struct UsageError: Error, CustomStringConvertible {
    let description: String
}

struct ParsedArguments {
    private var values: [String: [String]] = [:]  // keyed by an option's first name
    private(set) var positionals: [String] = []
    private let options: [Option]

    init(_ arguments: [String], options: [Option]) throws {
        self.options = options
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            if arg == "--" { positionals += arguments[(i + 1)...]; break }
            guard arg.hasPrefix("-") && arg.count > 1 && Double(arg) == nil else {
                positionals.append(arg); i += 1; continue
            }
            // --name=value is accepted too.
            let (name, inline) = arg.hasPrefix("--") && arg.contains("=")
                ? (String(arg.prefix(while: { $0 != "=" })), String(arg.drop(while: { $0 != "=" }).dropFirst()))
                : (arg, nil as String?)
            guard let option = options.first(where: { $0.names.contains(name) }) else {
                throw UsageError(description: "unknown option '\(name)'")
            }
            if option.value == nil {
                guard inline == nil else { throw UsageError(description: "option '\(name)' takes no value") }
                values[option.names[0], default: []].append("")
                i += 1
            } else if let inline {
                values[option.names[0], default: []].append(inline)
                i += 1
            } else {
                guard i + 1 < arguments.count else {
                    throw UsageError(description: "option '\(name)' needs a value (\(option.value!))")
                }
                values[option.names[0], default: []].append(arguments[i + 1])
                i += 2
            }
        }
    }

    func flag(_ name: String) -> Bool { values[name] != nil }
    func string(_ name: String) -> String? { values[name]?.last }
    func strings(_ name: String) -> [String] { values[name] ?? [] }

    func int(_ name: String, default value: Int) throws -> Int {
        guard let s = string(name) else { return value }
        guard let v = Int(s) else { throw UsageError(description: "option '\(name)' expects an integer, got '\(s)'") }
        return v
    }

    /// A finite number, read at the precision asked for (a Double stays exactly as typed).
    func float<T: BinaryFloatingPoint & LosslessStringConvertible>(_ name: String, default value: T) throws -> T {
        guard let s = string(name) else { return value }
        guard let v = T(s), v.isFinite else {
            throw UsageError(description: "option '\(name)' expects a number, got '\(s)'")
        }
        return v
    }

    /// An integer that must lie in `range`.
    func int(_ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        let v = try int(name, default: value)
        guard range.contains(v) else {
            throw UsageError(description: "option '\(name)' must be in \(range.lowerBound)...\(range.upperBound), got \(v)")
        }
        return v
    }
}

/// Renders a command's help text from its options.
func usage(_ synopsis: String, _ summary: String, _ options: [Option]) -> String {
    var text = "usage: \(synopsis)\n\n\(summary)\n\noptions:\n"
    for o in options {
        let left = o.names.joined(separator: ", ") + (o.value.map { " \($0)" } ?? "")
        text += "  " + left.padding(toLength: max(left.count, 24), withPad: " ", startingAt: 0) + "  " + o.help + "\n"
    }
    return text
}
