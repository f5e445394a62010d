"""The gateway's canonical error: one kind and message, rendered later in the caller's family shape."""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    """What went wrong, independent of any API family's wording."""

    INVALID_REQUEST = "invalid_request"
    AUTHENTICATION = "authentication"
    PERMISSION = "permission"
    NOT_FOUND = "not_found"
    RATE_LIMIT = "rate_limit"
    UPSTREAM = "upstream"
    UNAVAILABLE = "unavailable"
    TIMEOUT = "timeout"
    INTERNAL = "internal"


DEFAULT_STATUS: dict[ErrorKind, int] = {
    ErrorKind.INVALID_REQUEST: 400,
    ErrorKind.AUTHENTICATION: 401,
    ErrorKind.PERMISSION: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.RATE_LIMIT: 429,
    ErrorKind.UPSTREAM: 502,
    ErrorKind.UNAVAILABLE: 503,
    ErrorKind.TIMEOUT: 504,
    ErrorKind.INTERNAL: 500,
}


class GatewayError(Exception):
    """An error to be shown to the client in its own family's shape."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status or DEFAULT_STATUS[kind]
        self.param = param
        self.code = code
        self.headers = headers or {}


def invalid_request(message: str, param: str | None = None) -> GatewayError:
    """A 400: the request's fault, naming the field when there is one."""
    return GatewayError(ErrorKind.INVALID_REQUEST, message, param=param)


def kind_for_status(status: int) -> ErrorKind:
    """The error kind an HTTP status stands for."""
    if status == 401:
        return ErrorKind.AUTHENTICATION
    if status == 403:
        return ErrorKind.PERMISSION
    if status == 404:
        return ErrorKind.NOT_FOUND
    if status == 429:
        return ErrorKind.RATE_LIMIT
    if status == 504:
        return ErrorKind.TIMEOUT
    if status in (503, 529):
        return ErrorKind.UNAVAILABLE
    if status >= 500:
        return ErrorKind.UPSTREAM
    return ErrorKind.INVALID_REQUEST
