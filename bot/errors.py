"""Breather's own exceptions.

    BreatherError
     ├── ConfigError          settings or breather.yml are invalid (names the field)
     ├── InvalidInput         a request body we can never accept (HTTP 400/413/415/422)
     ├── InvalidSignature     missing, wrong or stale signature (HTTP 401)
     ├── NotFound             the thing asked for does not exist
     ├── NotAllowed           the caller may not do this
     └── DeliveryFailed       a chat platform refused or failed a call
          └── RateLimited     the platform asked us to wait `retry_after` seconds

Transports translate these into their own answers in one place each.
"""

from __future__ import annotations


class BreatherError(Exception):
    """Base of every error Breather raises on purpose."""


class ConfigError(BreatherError):
    """Settings or breather.yml are invalid; the message names the field."""


class InvalidInput(BreatherError):
    """Input that will never succeed; `status` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


class InvalidSignature(BreatherError):
    """The request's signature is missing, wrong or too old."""


class NotFound(BreatherError):
    """The referenced object does not exist."""


class NotAllowed(BreatherError):
    """The caller is not allowed to do this."""


class DeliveryFailed(BreatherError):
    """A chat platform call failed. `permanent` failures are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class RateLimited(DeliveryFailed):
    """The platform answered 429; try again after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
