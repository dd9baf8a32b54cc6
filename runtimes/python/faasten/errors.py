"""The errors a CloudCall raises: ``FaastenError`` and one subclass per protocol code."""
from faasten._wire import cloudcalls as wire


class FaastenError(Exception):
    """A CloudCall failed. ``code`` is the protocol's error code name."""

    def __init__(self, message, code="INTERNAL", rule=""):
        super().__init__(message)
        self.code = code
        self.rule = rule


class RefusedError(FaastenError):
    """A flow rule refused the call; ``rule`` names it (e.g. "write rule")."""


class NotFoundError(FaastenError):
    pass


class AlreadyExistsError(FaastenError):
    pass


class WrongKindError(FaastenError):
    pass


class InvalidArgumentError(FaastenError):
    pass


class LimitExceededError(FaastenError):
    pass


class UnsupportedError(FaastenError):
    pass


class UnavailableError(FaastenError):
    """A service failed or timed out, or the engine had no room for the call."""


_ERRORS = {
    wire.Code.REFUSED: ("REFUSED", RefusedError),
    wire.Code.NOT_FOUND: ("NOT_FOUND", NotFoundError),
    wire.Code.ALREADY_EXISTS: ("ALREADY_EXISTS", AlreadyExistsError),
    wire.Code.WRONG_KIND: ("WRONG_KIND", WrongKindError),
    wire.Code.INVALID_ARGUMENT: ("INVALID_ARGUMENT", InvalidArgumentError),
    wire.Code.LIMIT_EXCEEDED: ("LIMIT_EXCEEDED", LimitExceededError),
    wire.Code.UNSUPPORTED: ("UNSUPPORTED", UnsupportedError),
    wire.Code.BAD_HANDLE: ("BAD_HANDLE", InvalidArgumentError),
    wire.Code.UNAVAILABLE: ("UNAVAILABLE", UnavailableError),
    wire.Code.PROTOCOL: ("PROTOCOL", FaastenError),
    wire.Code.TIMEOUT: ("TIMEOUT", FaastenError),
    wire.Code.INTERNAL: ("INTERNAL", FaastenError),
}


def _raise(error):
    name, kind = _ERRORS.get(error.code, ("INTERNAL", FaastenError))
    raise kind(error.message, name, error.rule)
