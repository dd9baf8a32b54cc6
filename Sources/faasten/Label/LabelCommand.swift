import ArgumentParser
import Labels

/// `faasten label …`: label computations for debugging policies and for scripts.
struct LabelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "label",
        abstract: "Compute with labels: parse, flows, lub, glb, downgrade, endorse, batch.",
        discussion: """
            A label is secrecy,integrity; each half is T, F, or clauses joined by & whose
            principals are joined by | (e.g. 'alice&bob|carol,alice/photo'). A privilege is
            one such half ('alice&bob', T or F). Escape , | & / \\ T F inside tokens with \\.
            Prints the canonical label, or true/false (exit 1 for false); errors exit 2.
            """,
        subcommands: [Parse.self, Flows.self, Lub.self, Glb.self, Downgrade.self, Endorse.self, LabelBatchCommand.self]
    )

    struct Parse: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the canonical form of a label.")
        @Argument(help: "The label, e.g. 'alice|alice/photo,T'.") var label: String
        func run() throws { try LabelCommand.answer(operation: "parse", [label]) }
    }

    struct Flows: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Whether data labeled L1 may flow to L2 (with a privilege): prints true or false.")
        @Argument(help: "The source label.") var from: String
        @Argument(help: "The destination label.") var to: String
        @Option(name: .shortAndLong, help: "A privilege that may declassify and endorse, e.g. 'alice'.")
        var privilege: String?
        func run() throws { try LabelCommand.answer(operation: "flows", [from, to] + (privilege.map { [$0] } ?? [])) }
    }

    struct Lub: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The least upper bound (join) of two labels.")
        @Argument var first: String
        @Argument var second: String
        func run() throws { try LabelCommand.answer(operation: "lub", [first, second]) }
    }

    struct Glb: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The greatest lower bound (meet) of two labels.")
        @Argument var first: String
        @Argument var second: String
        func run() throws { try LabelCommand.answer(operation: "glb", [first, second]) }
    }

    struct Downgrade: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Declassify and endorse a label with all of a privilege.")
        @Argument var label: String
        @Argument(help: "The privilege, e.g. 'alice'.") var privilege: String
        func run() throws { try LabelCommand.answer(operation: "downgrade", [label, privilege]) }
    }

    struct Endorse: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a privilege to a label's integrity.")
        @Argument var label: String
        @Argument(help: "The privilege, e.g. 'alice'.") var privilege: String
        func run() throws { try LabelCommand.answer(operation: "endorse", [label, privilege]) }
    }

    /// Evaluates one query and prints its answer; `false` exits 1, an error exits 2.
    static func answer(operation: String, _ arguments: [String]) throws {
        let answer: LabelQuery.Answer
        do {
            answer = try LabelQuery(operation: operation, arguments: arguments).evaluate()
        } catch {
            FileDescriptorOutput.standardError.writeLine("error: \(error)")
            throw ExitCode(2)
        }
        print(answer)
        if answer == .bool(false) { throw ExitCode(1) }
    }
}
