import ArgumentParser
import AsyncHTTPClient
import Foundation
import FstnKit
import JSONValues
import NIOCore
import NIOHTTP1

/// `fstn blob put | get`: large immutable data behind labeled blob entries, streamed
/// through `/v1/blobs/{path}` without holding it in memory.
struct BlobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blob", abstract: "Upload or download a blob (streamed; any size up to the server's --max-blob).",
        subcommands: [Put.self, Get.self])

    @OptionGroup var options: GlobalOptions

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upload a file and create (or re-point) the blob entry at PATH (PUT /v1/blobs/{path}).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The blob entry's FS path.") var path: String
        @Argument(help: "The local file to upload, or - for stdin.") var file: String
        @Option(help: "The entry's label (default: the request's current label).") var label: String?

        func run() async throws {
            try await options.run { connection, output in
                let label = try label.map { (text) throws(FstnError) in try Arguments.label("--label", text) }
                let object = try await BlobCommand.upload(file: file == "-" ? nil : file, to: path, label: label, connection: connection)
                output.result(object) {
                    let size = object["size"]?.readable ?? "?"
                    let blob = object["blob"]?.readable ?? "?"
                    return "stored \(size) bytes at \(path) (blob \(blob), label \(object["label"]?.readable ?? "-"))"
                }
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download the blob behind a blob entry to stdout or a file (GET /v1/blobs/{path}).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The blob entry's FS path.") var path: String
        @Option(name: .shortAndLong, help: "Write to this file instead of stdout.") var output: String?

        func run() async throws {
            try await options.run { connection, printer in
                let request = APIRequest(.GET, "/v1/blobs/" + PathEncoding.segment(path), timeout: APIRequest.transferTimeout)
                let response = try await connection.response(for: request)
                guard (200..<300).contains(response.status.code) else {
                    throw await connection.error(for: try await connection.collect(response, request: request), request: request)
                }
                let sink = try output.flatMap { $0 == "-" ? nil : $0 }.map { (path) throws(FstnError) in try ByteSink(creating: path) }
                    ?? ByteSink.standardOutput()
                let size = response.headers.first(name: "Content-Length").flatMap { Int64($0) }
                // A bar only when the bytes go to a file: on a terminal it would mix with them.
                let bar = sink.path == nil ? nil : ProgressBar.forTransfer(of: size, label: "downloading")
                var received: Int64 = 0
                do {
                    for try await chunk in response.body {
                        try chunk.withUnsafeReadableBytes { (bytes) throws(FstnError) in try sink.write(bytes) }
                        received += Int64(chunk.readableBytes)
                        bar?.update(received)
                    }
                    try sink.finish()
                } catch let error as FstnError {
                    sink.abandon()
                    throw error
                } catch {
                    sink.abandon()
                    throw FstnError("the download of \(path) broke off after \(received) bytes: \(error)", next: "try again")
                }
                bar?.finish()
                if let size, received != size {
                    sink.abandon()
                    throw FstnError("the download of \(path) ended after \(received) of \(size) bytes", next: "try again")
                }
                if printer.json {
                    printer.print(["path": .string(path), "size": .number(Double(received)), "output": .string(sink.path ?? "-")])
                }
            }
        }
    }

    /// Streams a file (or stdin, when `file` is nil) to the blob entry at `path`, with a
    /// progress bar on a terminal for large files; returns the entry's *Object*.
    static func upload(file: String?, to path: String, label: String?, connection: Connection) async throws -> JSONValue {
        let bar: ProgressBar?
        let chunks: FileChunks
        if let file {
            let size = try FileChunks(file: file).size
            bar = ProgressBar.forTransfer(of: size, label: "uploading")
            var progress: (@Sendable (Int64) -> Void)?
            if let bar { progress = { sent in bar.update(sent) } }
            chunks = try FileChunks(file: file, progress: progress)
        } else {
            bar = nil
            chunks = FileChunks.standardInput()
        }
        var request = APIRequest(
            .PUT, "/v1/blobs/" + PathEncoding.segment(path), body: .stream(chunks, contentType: "application/octet-stream"),
            timeout: APIRequest.transferTimeout)
        if let label { request.query = [("label", label)] }
        let object = try await connection.json(request)
        bar?.finish()
        return object
    }
}
