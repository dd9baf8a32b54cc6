/// One measured figure beside its baseline.
struct BenchmarkRow: Sendable {
    /// Stable across versions, e.g. `labels.canflow.typical.p50`.
    let name: String
    let unit: String
    let value: Double
    let baseline: Double
    let target: Double?
    /// What the baseline is, for the table.
    let baselineNote: String

    var ratio: Double { baseline > 0 ? value / baseline : .infinity }
}

/// The rows of one benchmark run, printed as a table or as JSON.
struct BenchmarkReport: Sendable {
    var title: String
    var rows: [BenchmarkRow] = []

    mutating func add(_ name: String, unit: String, _ value: Double, baseline: Double, target: Double? = nil, note: String) {
        rows.append(BenchmarkRow(name: name, unit: unit, value: value, baseline: baseline, target: target, baselineNote: note))
    }

    func table() -> String {
        let header = ["metric", "unit", "faasten", "baseline", "ratio", "target", "baseline is"]
        let body = rows.map { row in
            [row.name, row.unit, format(row.value), format(row.baseline), format(row.ratio, digits: 2),
             row.target.map { target in
                 // Rates are better higher; times and sizes lower.
                 let higher = row.unit == "1/s" || row.unit.hasSuffix("/s")
                 let met = higher ? row.value >= target : row.value <= target
                 return (met ? "" : "MISSED ") + (higher ? "≥ " : "≤ ") + format(target)
             } ?? "-", row.baselineNote]
        }
        let widths = header.indices.map { column in
            ([header] + body).map { $0[column].count }.max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                let pad = String(repeating: " ", count: widths[index] - cell.count)
                return index >= 2 && index <= 4 ? pad + cell : cell + pad
            }.joined(separator: "  ")
        }
        var out = [title, line(header), line(widths.map { String(repeating: "-", count: $0) })]
        out += body.map(line)
        return out.joined(separator: "\n")
    }

    func json() -> String {
        let objects = rows.map { row in
            "{\"name\":\(quote(row.name)),\"unit\":\(quote(row.unit)),\"value\":\(number(row.value)),"
                + "\"baseline\":\(number(row.baseline)),\"ratio\":\(number(row.ratio)),"
                + "\"target\":\(row.target.map(number) ?? "null")}"
        }
        return "[\n  " + objects.joined(separator: ",\n  ") + "\n]"
    }

    private func format(_ value: Double, digits: Int = 1) -> String {
        guard value.isFinite else { return "inf" }
        let scale = Double([1, 10, 100, 1000][min(digits, 3)])
        let rounded = (value * scale).rounded() / scale
        return digits == 0 ? String(Int(rounded)) : String(rounded)
    }

    private func number(_ value: Double) -> String {
        value.isFinite ? String((value * 1000).rounded() / 1000) : "null"
    }

    private func quote(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

private extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
