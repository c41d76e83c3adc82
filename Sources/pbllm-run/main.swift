import Foundation
import Kernels

/// pbllm-run: the command-line face of pbllm. Each subcommand lives in its own file.
let commands: [any Command.Type] = [RunCommand.self, TokenizeCommand.self, PerplexityCommand.self,
                                    ChatCommand.self, BenchCommand.self, ConvertCommand.self, InspectCommand.self]

let mainHelp = """
    usage: pbllm-run COMMAND [options]   (pbllm-run COMMAND --help for its options)

    commands:
    """ + "\n" + commands.map { "  \($0.name.padding(toLength: 12, withPad: " ", startingAt: 0))\($0.synopsis)" }
    .joined(separator: "\n") + "\n"

BLASKernelSelection.reexecWithVectorKernelsIfNeeded()

let arguments = Array(CommandLine.arguments.dropFirst())
guard let name = arguments.first, !["-h", "--help", "help"].contains(name) else {
    if arguments.isEmpty { FileHandle.standardError.write(mainHelp.data(using: .utf8)!); exit(2) }
    print(mainHelp, terminator: "")
    exit(0)
}
guard let command = commands.first(where: { $0.name == name }) else {
    Output.log("pbllm-run: unknown command '\(name)'\n\n" + mainHelp)
    exit(2)
}
let rest = Array(arguments.dropFirst())
if rest.contains("-h") || rest.contains("--help") {
    print(command.help, terminator: "")
    exit(0)
}
do {
    try command.run(try ParsedArguments(rest, options: command.options))
} catch let error as UsageError {
    Output.log("pbllm-run \(name): \(error)\n(see pbllm-run \(name) --help)")
    exit(2)
} catch {
    Output.log("pbllm-run \(name): error: \(error)")
    exit(1)
}
