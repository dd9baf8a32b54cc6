"""What a function returns: ``ResponseDict``, ``ResponseStr``, ``ResponseRaw``."""


class Response:
    """What a function returns: a body, a status code and headers."""

    __slots__ = ("body", "status", "headers")

    def __init__(self, body=b"", status=200, headers=None):
        self.body = body
        self.status = status
        self.headers = headers or {}


class ResponseDict(Response):
    """A JSON response."""

    def __init__(self, obj, code=200, headers=None):
        import json  # imported on first use: json loads re and enum, 7 ms of a cold start

        headers = dict(headers or {})
        headers.setdefault("content-type", "application/json")
        super().__init__(json.dumps(obj).encode(), code, headers)


class ResponseStr(Response):
    """A text response."""

    def __init__(self, text, code=200, headers=None):
        headers = dict(headers or {})
        headers.setdefault("content-type", "text/plain; charset=utf-8")
        super().__init__(text.encode(), code, headers)


class ResponseRaw(Response):
    """A response of raw bytes."""

    def __init__(self, data, code=200, headers=None):
        super().__init__(bytes(data), code, headers)
