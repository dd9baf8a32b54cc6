/// Writes the canonical text form, escaping so that every value parses back to itself.
enum LabelPrinter {
    static func string(_ label: Label) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        write(label.secrecy, to: &out)
        out.append(UInt8(ascii: ","))
        write(label.integrity, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func string(_ component: Component) -> String {
        var out: [UInt8] = []
        write(component, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func string(_ clause: Clause) -> String {
        var out: [UInt8] = []
        write(clause, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func string(_ principal: Principal) -> String {
        var out: [UInt8] = []
        write(principal, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func write(_ component: Component, to out: inout [UInt8]) {
        guard let clauses = component.storage else {
            out.append(UInt8(ascii: "F"))
            return
        }
        if clauses.isEmpty {
            out.append(UInt8(ascii: "T"))
            return
        }
        // A component that is just the principal `T` or `F` would read back as the
        // constant; escape it.
        if clauses.count == 1, clauses[0].principals.count == 1 {
            let key = clauses[0].principals[0].key
            if key == [UInt8(ascii: "T")] || key == [UInt8(ascii: "F")] {
                out.append(UInt8(ascii: "\\"))
                out.append(key[0])
                return
            }
        }
        for (i, clause) in clauses.enumerated() {
            if i > 0 { out.append(UInt8(ascii: "&")) }
            write(clause, to: &out)
        }
    }

    static func write(_ clause: Clause, to out: inout [UInt8]) {
        for (i, principal) in clause.principals.enumerated() {
            if i > 0 { out.append(UInt8(ascii: "|")) }
            write(principal, to: &out)
        }
    }

    static func write(_ principal: Principal, to out: inout [UInt8]) {
        for byte in principal.key {
            switch byte {
            case Principal.separator:
                out.append(UInt8(ascii: "/"))
            case UInt8(ascii: ","), UInt8(ascii: "|"), UInt8(ascii: "&"), UInt8(ascii: "/"), UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
            default:
                out.append(byte)
            }
        }
    }
}
