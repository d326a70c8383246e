"""Provider-neutral error raised by dialect validators; each dialect renders it in its own wire shape."""
from __future__ import annotations


class ApiError(Exception):
    """A request the real provider would refuse: status plus message, rendered by the dialect."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request", **extra: object) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        # neutral kind: invalid_request, auth, permission, not_found, rate_limit, server, unavailable, overloaded
        self.kind = kind
        self.extra = extra


KIND_BY_STATUS = {
    400: "invalid_request",
    401: "auth",
    403: "permission",
    404: "not_found",
    429: "rate_limit",
    500: "server",
    503: "unavailable",
    529: "overloaded",
}
