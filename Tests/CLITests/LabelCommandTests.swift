import FaastenTestSupport
import Foundation
import LabelSamples
import Labels
import Processes
import Testing

@Suite("faasten label")
struct LabelCommandTests {
    @Test(arguments: [
        (["parse", "b|a,T"], 0, "a|b,T"),
        (["parse", "Tom,Fred"], 0, "Tom,Fred"),
        (["flows", "alice,T", "alice&bob,T"], 0, "true"),
        (["flows", "alice&bob,T", "alice,T"], 1, "false"),
        (["flows", "alice&bob,T", "alice,T", "--privilege", "bob"], 0, "true"),
        (["flows", "alice&bob,T", "alice,T", "-p", "carol"], 1, "false"),
        (["lub", "T,amit", "T,yue"], 0, "T,amit|yue"),
        (["glb", "amit,T", "yue,T"], 0, "amit|yue,T"),
        (["downgrade", "princeton.edu/aalevy,T", "princeton.edu/aalevy"], 0, "T,princeton.edu/aalevy"),
        (["endorse", "bob,T", "go_grader"], 0, "bob,go_grader"),
    ])
    func answersWithExitStatus(arguments: [String], status: Int32, output: String) throws {
        let result = try BuiltProducts.run("faasten", ["label"] + arguments)
        #expect(result.status == status, "\(result.stderr)")
        #expect(result.stdout == output + "\n")
        #expect(result.stderr.isEmpty)
    }

    @Test(arguments: [
        (["parse", "a//b,T"], "error: L (argument 1): at position 3: empty token"),
        (["parse", "alice"], "error: L (argument 1): at position 6: missing ','"),
        (["flows", "a,T", "b,T", "-p", "x,y"], "error: P (argument 3): at position 2: unexpected ','"),
        (["lub", "a,T"], "Missing expected argument"),
        (["frobnicate"], "Unexpected argument"),
    ])
    func errorsExitTwoWithAReason(arguments: [String], message: String) throws {
        let result = try BuiltProducts.run("faasten", ["label"] + arguments)
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test(arguments: ["faasten", "fstn", "faasten-bench"])
    func everyExecutableHasHelp(product: String) throws {
        let result = try BuiltProducts.run(product, ["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE: \(product)"))
    }

    @Test func fstnChecksLabelsLocally() throws {
        let good = try BuiltProducts.run("fstn", ["check-label", "bob|alice,T"])
        #expect(good.status == 0 && good.stdout == "alice|bob,T\n")
        let bad = try BuiltProducts.run("fstn", ["check-label", "a,,b"])
        #expect(bad.status != 0 && bad.stderr.contains("at position 3"))
    }

    @Test func batchAgreesWithTheLibraryOnRandomQueries() throws {
        var rng = SplitMix64(seed: 2026)
        let queries = (0..<20_000).map { _ in Self.randomQuery(&rng) }
        let input = queries.joined(separator: "\n") + "\n"
        let result = try BuiltProducts.run("faasten", ["label", "batch"], input: Data(input.utf8))
        #expect(result.status == 0, "\(result.stderr)")
        let answers = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(answers.count == queries.count + 1 && answers.last == "")
        var mismatches = 0
        for (query, answer) in zip(queries, answers) where LabelQuery.answerLine(for: query[...]) != answer {
            mismatches += 1
            if mismatches < 5 { Issue.record("\(query) → \(answer)") }
        }
        #expect(mismatches == 0)
        #expect(answers.contains("true") && answers.contains("false") && answers.contains { $0.hasPrefix("error: ") })
    }

    @Test func batchHandlesLineEndingsAndBadBytes() throws {
        var input = Data("parse\tb|a,T\r\nflows\ta,T\tT,T\n\n".utf8)
        input.append(contentsOf: [0x70, 0x61, 0xFF, 0x0A])  // "pa\xFF\n"
        input.append(Data("lub\tT,a\tT,b".utf8))  // the last line has no newline
        let result = try BuiltProducts.run("faasten", ["label", "batch"], input: input)
        #expect(result.status == 0)
        #expect(result.stdout.split(separator: "\n", omittingEmptySubsequences: false) == [
            "a|b,T", "false", "error: empty query: expected an operation (flows, lub, glb, downgrade, endorse, parse)",
            "error: the line is not valid UTF-8", "T,a|b", "",
        ])
    }

    @Test func batchAnswersEachLineBeforeTheNextArrives() throws {
        // A script may keep the pipe open and ask one query at a time.
        let process = try InteractiveProcess(try BuiltProducts.path("faasten"), ["label", "batch"])
        for (query, expected) in [("lub\talice,T\tbob,T", "alice&bob,T"), ("flows\tT,T\ta,T", "true"), ("parse\tx", "error:")] {
            process.send(query + "\n")
            let next = process.nextLine()
            let line = try #require(next)
            #expect(line.hasPrefix(expected), "\(query) → \(line)")
        }
        process.closeInput()
        #expect(process.nextLine() == nil)
        #expect(process.child.wait() == .exited(0))
    }

    /// A query of every kind over typical labels, with some malformed arguments.
    static func randomQuery(_ rng: inout SplitMix64) -> String {
        let sampler = LabelSampler.typical
        func l() -> String {
            switch Int.random(in: 0..<40, using: &rng) {
            case 0: return "a//b,T"
            case 1: return "alice"
            default: return sampler.label(using: &rng).description
            }
        }
        func p() -> String { sampler.privilege(using: &rng).description }
        switch Int.random(in: 0..<8, using: &rng) {
        case 0: return ["flows", l(), l()].joined(separator: "\t")
        case 1, 2: return ["flows", l(), l(), p()].joined(separator: "\t")
        case 3: return ["lub", l(), l()].joined(separator: "\t")
        case 4: return ["glb", l(), l()].joined(separator: "\t")
        case 5: return ["downgrade", l(), p()].joined(separator: "\t")
        case 6: return ["endorse", l(), p()].joined(separator: "\t")
        default: return ["parse", l()].joined(separator: "\t")
        }
    }
}
