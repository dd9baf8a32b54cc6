import Foundation
import Hummingbird
import Metrics
import NIOCore
import JSONValues

extension Gateway {
    func addOperationRoutes(_ router: Router<GatewayContext>) {
        route(router, .get, "/healthz") { _, _ -> Response in
            let pool = await self.worker.poolStatus()
            let store: String
            do {
                _ = try await self.fileSystem.store.transaction(.read) { try $0.metadata("root") }
                store = "ok"
            } catch {
                store = "failing: \(error)"
            }
            // Records the store refused are kept and retried; say so while it lasts.
            let records = await self.worker.recordingFailure().map { "failing: \($0)" } ?? "ok"
            let healthy = store == "ok" && records == "ok" && !self.draining
            return JSONValue.object([
                "status": .string(self.draining ? "draining" : (healthy ? "ok" : "failing")), "store": .string(store),
                "records": .string(records),
                "pool": .object([
                    "used_mb": .number(Double(pool.usedMB)), "idle": .number(Double(pool.idle)),
                    "prestarted": .number(Double(pool.prestarted)), "waiting": .number(Double(pool.waiting)),
                ]),
            ]).response(status: healthy ? .ok : .serviceUnavailable)
        }
        route(router, .get, "/metrics") { _, _ -> Response in
            let pool = await self.worker.poolStatus()
            self.metrics.makeGauge(name: "faasten_pool_memory_used_mb").set(Int64(pool.usedMB))
            self.metrics.makeGauge(name: "faasten_pool_idle_sandboxes").set(Int64(pool.idle))
            self.metrics.makeGauge(name: "faasten_pool_prestarted_sandboxes").set(Int64(pool.prestarted))
            self.metrics.makeGauge(name: "faasten_pool_waiting_invocations").set(Int64(pool.waiting))
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: self.metrics.emitToBuffer())))
        }
        // The original's endpoints (faasten-reference §6.1).
        route(router, .get, "/faasten/ping") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain"], body: ResponseBody(byteBuffer: ByteBuffer(string: "Pong.")))
        }
        route(router, .get, "/me") { request, _ -> Response in
            let caller = try await self.caller(request)
            return JSONValue.object(["login": .string(caller.privilege.description)]).response()
        }
    }
}
