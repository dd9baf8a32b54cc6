import Foundation
import JSONValues

/// How `fstn` shows the gateway's objects to a person (without `--json`).
public enum Rendering {
    /// Rows in aligned columns, the header first, two spaces apart.
    ///
    /// ```
    /// NAME   KIND
    /// notes  file
    /// ```
    public static func table(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in column == row.count - 1 ? cell : cell.rightPadded(to: widths[column]) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// An *Object*'s listing: the entries of a directory, the facets of a faceted
    /// directory, or the object itself (e.g. a file) as one row.
    public static func listing(_ object: JSONValue) -> String {
        if let facets = object["facets"]?.array {
            // A facet is named by its label in a path: DIR:<alice,alice>.
            return table(header: ["NAME", "KIND"], rows: facets.map { ["<\($0.readable)>", "directory"] })
        }
        if let entries = object["entries"]?.array {
            let rows = entries.map { [$0["name"]?.readable ?? "?", $0["kind"]?.readable ?? "?"] }
            return table(header: ["NAME", "KIND"], rows: rows)
        }
        return table(header: ["NAME", "KIND"], rows: [[object["path"]?.readable ?? "", object["kind"]?.readable ?? "?"]])
    }

    /// `key: value` lines for an *Object*: its kind, path and label, then what its kind has
    /// (sizes, counts, a gate's or a service's fields); a file's bytes are left out.
    public static func objectFields(_ object: JSONValue) -> [(String, String)] {
        var fields: [(String, String)] = []
        func add(_ key: String, _ value: JSONValue?) {
            if let value { fields.append((key, value.readable)) }
        }
        add("kind", object["kind"])
        add("path", object["path"])
        add("label", object["label"] ?? (object["kind"]?.string == "faceted" ? .string("none (its facets are labeled)") : nil))
        add("size", object["size"])
        add("blob", object["blob"])
        if let entries = object["entries"]?.array { fields.append(("entries", String(entries.count))) }
        if let facets = object["facets"]?.array { fields.append(("facets", facets.map { "<\($0.readable)>" }.joined(separator: " "))) }
        for section in ["gate", "service"] {
            guard case let .object(members)? = object[section] else { continue }
            let order = [
                "privilege", "invoker_clearance", "declassify", "image", "redirect", "runtime", "memory_mb", "timeout_ms", "fresh",
                "concurrency", "url", "verb", "taint", "headers",
            ]
            for key in order where members[key] != nil { add(key, members[key]) }
            for key in members.keys.sorted() where !order.contains(key) { add(key, members[key]) }
        }
        return fields
    }

    /// `key: value` lines for an invocation record (`GET /v1/invocations/{id}`).
    public static func invocationFields(_ record: JSONValue) -> [(String, String)] {
        var fields: [(String, String)] = []
        for key in ["id", "target", "parent", "invoker", "state", "submitted_at", "started_at", "finished_at", "result_label"] {
            guard let value = record[key], !value.isNull else { continue }
            fields.append((key, key.hasSuffix("_at") ? time(value) : value.readable))
        }
        if let outcome = record["outcome"], !outcome.isNull {
            for key in ["status", "response_status", "error"] {
                if let value = outcome[key], !value.isNull { fields.append(("outcome.\(key)", value.readable)) }
            }
            if let body = outcome["body"]?.string {
                fields.append(("outcome.body", body))
            } else if let encoded = outcome["body_base64"]?.string {
                fields.append(("outcome.body_base64", encoded))
            }
        }
        return fields
    }

    /// `key: value` lines for a *Trigger* (`GET /v1/triggers/{id}`); times as ISO 8601, and
    /// a relative `hook_url` under `server`. Null fields (a webhook's schedule) are left out.
    public static func triggerFields(_ trigger: JSONValue, server: String) -> [(String, String)] {
        let order = [
            "id", "name", "owner", "source", "gate", "privilege", "start_label", "schedule", "timezone", "next_run", "hook_url",
            "created_at", "secret",
        ]
        var fields: [(String, String)] = []
        func add(_ key: String) {
            guard let value = trigger[key], !value.isNull else { return }
            switch key {
            case "next_run", "created_at": fields.append((key, time(value)))
            case "hook_url": fields.append((key, absoluteHookURL(value.readable, server: server)))
            default: fields.append((key, value.readable))
            }
        }
        for key in order { add(key) }
        if case let .object(members) = trigger {
            for key in members.keys.sorted() where !order.contains(key) { add(key) }
        }
        return fields
    }

    /// `GET /v1/triggers` as a table: ID, NAME, SOURCE, GATE and, for schedules, NEXT RUN.
    public static func triggerTable(_ list: JSONValue) -> String {
        let rows = (list["triggers"]?.array ?? []).map { trigger in
            let nextRun = trigger["next_run"].flatMap { $0.isNull ? nil : time($0) } ?? "-"
            return [
                trigger["id"]?.readable ?? "?", trigger["name"]?.readable ?? "?", trigger["source"]?.readable ?? "?",
                trigger["gate"]?.readable ?? "?", nextRun,
            ]
        }
        return table(header: ["ID", "NAME", "SOURCE", "GATE", "NEXT RUN"], rows: rows)
    }

    /// `GET /v1/triggers/{id}/deliveries` as a table, newest first as the server sends them.
    public static func deliveryTable(_ list: JSONValue) -> String {
        let rows = (list["deliveries"]?.array ?? []).map { delivery in
            [
                delivery["at"].map(time) ?? "-", delivery["event"]?.readable ?? "-", delivery["delivery"]?.readable ?? "-",
                delivery["invocation"]?.readable ?? "-", delivery["outcome"]?.readable ?? "-",
            ]
        }
        return table(header: ["AT", "EVENT", "DELIVERY", "INVOCATION", "OUTCOME"], rows: rows)
    }

    /// A hook URL as the server gave it, under `server` if it is only a path.
    static func absoluteHookURL(_ url: String, server: String) -> String {
        url.hasPrefix("/") ? server + url : url
    }

    /// Fields as `key: value` lines, the values aligned.
    public static func lines(_ fields: [(String, String)]) -> String {
        let width = (fields.map(\.0.count).max() ?? 0) + 1
        return fields.map { ($0.0 + ":").rightPadded(to: width) + " " + $0.1 }.joined(separator: "\n")
    }

    /// Seconds since the epoch as an ISO 8601 time (UTC); other values as they are.
    public static func time(_ value: JSONValue) -> String {
        guard let seconds = value.number else { return value.readable }
        return Date(timeIntervalSince1970: seconds).ISO8601Format()
    }
}
