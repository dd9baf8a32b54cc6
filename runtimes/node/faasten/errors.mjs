// The errors a CloudCall rejects with: `FaastenError` and one subclass per protocol code.
import * as wire from "./_wire/cloudcalls.mjs";

/** A CloudCall failed. `code` is the protocol's error code name; `rule` names a refusing rule. */
export class FaastenError extends Error {
  constructor(message, code = "INTERNAL", rule = "") {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.rule = rule;
  }
}

/** A flow rule refused the call; `rule` names it (e.g. "write rule"). */
export class RefusedError extends FaastenError {}
export class NotFoundError extends FaastenError {}
export class AlreadyExistsError extends FaastenError {}
export class WrongKindError extends FaastenError {}
export class InvalidArgumentError extends FaastenError {}
export class LimitExceededError extends FaastenError {}
export class UnsupportedError extends FaastenError {}
/** A service failed or timed out, or the engine had no room for the call. */
export class UnavailableError extends FaastenError {}

const ERRORS = new Map([
  [wire.Code.REFUSED, ["REFUSED", RefusedError]],
  [wire.Code.NOT_FOUND, ["NOT_FOUND", NotFoundError]],
  [wire.Code.ALREADY_EXISTS, ["ALREADY_EXISTS", AlreadyExistsError]],
  [wire.Code.WRONG_KIND, ["WRONG_KIND", WrongKindError]],
  [wire.Code.INVALID_ARGUMENT, ["INVALID_ARGUMENT", InvalidArgumentError]],
  [wire.Code.LIMIT_EXCEEDED, ["LIMIT_EXCEEDED", LimitExceededError]],
  [wire.Code.UNSUPPORTED, ["UNSUPPORTED", UnsupportedError]],
  [wire.Code.BAD_HANDLE, ["BAD_HANDLE", InvalidArgumentError]],
  [wire.Code.UNAVAILABLE, ["UNAVAILABLE", UnavailableError]],
  [wire.Code.PROTOCOL, ["PROTOCOL", FaastenError]],
  [wire.Code.TIMEOUT, ["TIMEOUT", FaastenError]],
  [wire.Code.INTERNAL, ["INTERNAL", FaastenError]],
]);

export function toError(error) {
  const [code, Kind] = ERRORS.get(error.code) ?? ["INTERNAL", FaastenError];
  return new Kind(error.message, code, error.rule);
}
