import Foundation
import LabelSamples
import Labels

/// `faasten label batch` on 100,000 random queries, end to end through the real binary.
enum LabelsBatchWorkload {
    static let queryCount = 100_000

    /// Queries of every kind over typical labels, as a script would send them.
    static func queries(count: Int) -> [String] {
        var rng = SplitMix64(seed: 0xBA7C4)
        let sampler = LabelSampler.typical
        return (0..<count).map { i in
            let a = sampler.label(using: &rng).description
            let b = sampler.label(using: &rng).description
            let p = sampler.privilege(using: &rng).description
            switch i % 6 {
            case 0: return "flows\t\(a)\t\(b)"
            case 1: return "flows\t\(a)\t\(b)\t\(p)"
            case 2: return "lub\t\(a)\t\(b)"
            case 3: return "glb\t\(a)\t\(b)"
            case 4: return "downgrade\t\(a)\t\(p)"
            default: return "endorse\t\(a)\t\(p)"
            }
        }
    }

    /// Milliseconds for the `faasten` binary beside this one to answer the queries, and for
    /// the same answers computed in this process (the floor: no process, no I/O).
    static func measure(count: Int) throws -> (binary: Double, inProcess: Double) {
        let queries = queries(count: count)
        let input = Data((queries.joined(separator: "\n") + "\n").utf8)

        let start = Stopwatch.nanoseconds()
        var answers = 0
        for query in queries { answers &+= LabelQuery.answerLine(for: query[...]).utf8.count }
        let inProcess = Double(Stopwatch.nanoseconds() - start) / 1e6
        blackHole(answers)

        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("faasten")
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw BenchmarkError("\(executable.path) is missing: run `swift build -c release` first")
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = ["label", "batch"]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        let t0 = Stopwatch.nanoseconds()
        try process.run()
        let writer = Thread {
            try? stdin.fileHandleForWriting.write(contentsOf: input)
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let binary = Double(Stopwatch.nanoseconds() - t0) / 1e6
        let lines = output.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 }
        guard process.terminationStatus == 0, lines == count else {
            throw BenchmarkError("faasten label batch answered \(lines) of \(count) queries (status \(process.terminationStatus))")
        }
        return (binary, inProcess)
    }
}

/// A benchmark that could not run, with the reason.
struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
