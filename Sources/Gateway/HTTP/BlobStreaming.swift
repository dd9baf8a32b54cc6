import FileSystem
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Labels
import NIOCore
import Store
import JSONValues

// Blob bytes in and out of HTTP bodies, a chunk at a time (a blob may be far larger
// than any buffer the gateway keeps).
extension Gateway {
    /// Streams a request body into a new blob, a chunk at a time; returns it and its size.
    func upload(_ body: RequestBody) async throws(APIError) -> (ExistingBlob, Int64) {
        let blobs = fileSystem.blobs
        let limit = configuration.maxBlobBytes
        do {
            let upload = try await Blocking.run { try blobs.create() }
            do {
                for try await buffer in body {
                    let bytes = Array(buffer.readableBytesView)
                    guard upload.size + Int64(bytes.count) <= limit else { throw APIError.tooLarge("a blob holds at most \(limit) bytes") }
                    try await Blocking.run { try upload.write(bytes) }
                }
                let size = upload.size
                let name = try await Blocking.run { try upload.finalize() }
                return (try await Blocking.run { try blobs.existing(name) }, size)
            } catch {
                upload.abort()
                throw error
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.internalServerError, "internal", "cannot store the blob: \(error)")
        }
    }

    /// A blob's bytes as a streamed response.
    static func stream(_ reader: any BlobReader) -> Response {
        let body = ResponseBody(contentLength: Int(reader.size)) { writer in
            var offset: Int64 = 0
            while offset < reader.size {
                let at = offset
                let chunk = try await Blocking.run { try reader.read(at: at, count: 1 << 20) }
                if chunk.isEmpty { break }
                try await writer.write(ByteBuffer(bytes: chunk))
                offset += Int64(chunk.count)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: body)
    }
}
