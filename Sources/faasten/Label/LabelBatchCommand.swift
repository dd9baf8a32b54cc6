import ArgumentParser
import Labels

/// `faasten label batch`: one TAB-separated query per stdin line, one answer per stdout line.
struct LabelBatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Answer label queries read from stdin, one per line, in order.",
        discussion: """
            Each line is an operation and its arguments separated by one TAB:
              flows L1 L2 [P] | lub L1 L2 | glb L1 L2 | downgrade L P | endorse L P | parse L
            Each answer line is true, false, a canonical label, or 'error: <reason>'.
            Answers are written as soon as the lines read so far are answered, so a script
            may hold the pipe open and ask one query at a time.
            """
    )

    func run() throws {
        var reader = LineReader(fileDescriptor: 0)
        let output = FileDescriptorOutput.standardOutput
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 16)
        while let lines = try reader.nextLines() {
            for line in lines {
                buffer.append(contentsOf: LabelBatchCommand.answer(for: line).utf8)
                buffer.append(UInt8(ascii: "\n"))
            }
            output.write(buffer)
            buffer.removeAll(keepingCapacity: true)
        }
    }

    static func answer(for line: ArraySlice<UInt8>) -> String {
        var bytes = line
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return "error: the line is not valid UTF-8"
        }
        return LabelQuery.answerLine(for: text[...])
    }
}
