import SwiftProtobuf

// Protobuf form (proto/labels.proto). Decoding treats the message as untrusted: a
// missing component is an error (the original panicked), principals and tokens are
// validated and limited, and the result is reduced, so two encodings of the same
// label give equal values.

extension Label {
    /// Decodes and validates a wire label.
    public init(protobuf message: Faasten_Buckle, limits: LabelLimits = .default) throws(LabelError) {
        guard message.hasSecrecy else { throw .invalid("label has no secrecy component") }
        guard message.hasIntegrity else { throw .invalid("label has no integrity component") }
        self.init(
            secrecy: try Component(protobuf: message.secrecy, limits: limits),
            integrity: try Component(protobuf: message.integrity, limits: limits))
    }

    /// Decodes and validates a serialized `faasten.Buckle`.
    public init(serializedProtobuf bytes: [UInt8], limits: LabelLimits = .default) throws(LabelError) {
        let message: Faasten_Buckle
        do {
            message = try Faasten_Buckle(serializedBytes: bytes)
        } catch {
            throw .invalid("malformed protobuf label: \(error)")
        }
        try self.init(protobuf: message, limits: limits)
    }

    /// The wire form.
    public var protobuf: Faasten_Buckle {
        var message = Faasten_Buckle()
        message.secrecy = secrecy.protobuf
        message.integrity = integrity.protobuf
        return message
    }
}

extension Component {
    /// Decodes and validates a wire component; an unset oneof is an error.
    public init(protobuf message: Faasten_Component, limits: LabelLimits = .default) throws(LabelError) {
        switch message.clauses {
        case .none:
            throw .invalid("component has neither DCFalse nor a formula")
        case .dcfalse:
            self = .false
        case let .formula(list):
            try self.init(
                untrusted: list.clauses.map { $0.principals.map(\.tokens) },
                limits: limits)
        }
    }

    /// The wire form.
    public var protobuf: Faasten_Component {
        var message = Faasten_Component()
        guard let clauses = storage else {
            message.dcfalse = Faasten_Void()
            return message
        }
        var list = Faasten_ClauseList()
        list.clauses = clauses.map { clause in
            var wire = Faasten_Clause()
            wire.principals = clause.principals.map { principal in
                var tokens = Faasten_TokenList()
                tokens.tokens = principal.tokens
                return tokens
            }
            return wire
        }
        message.formula = list
        return message
    }
}

extension Privilege {
    /// Decodes and validates a wire privilege (a component).
    public init(protobuf message: Faasten_Component, limits: LabelLimits = .default) throws(LabelError) {
        self.init(try Component(protobuf: message, limits: limits))
    }

    /// The wire form.
    public var protobuf: Faasten_Component { component.protobuf }
}
