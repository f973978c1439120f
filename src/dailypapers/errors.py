"""The error types services raise; web and cli map them once to responses and messages."""


class DailyPapersError(Exception):
    """Base of every error the application raises on purpose."""


class NotFound(DailyPapersError):
    """The thing asked for does not exist."""


class InvalidRequest(DailyPapersError):
    """The input is malformed or out of range."""


class Conflict(DailyPapersError):
    """The request clashes with the current state."""


class SourceUnavailable(DailyPapersError):
    """An upstream (arXiv, Hugging Face) could not be reached or answered badly."""


class ConfigurationError(DailyPapersError):
    """The settings are unusable: a bad value, a placeholder secret, a pending migration."""


class NotSignedIn(DailyPapersError):
    """The action needs a signed-in user and there is none."""


class PermissionDenied(DailyPapersError):
    """The user may not do this: not theirs, not an admin, suspended, or a bad CSRF token."""


class RateLimited(DailyPapersError):
    """Too many requests of one kind in the current window; try again later."""

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class StoreUnavailable(DailyPapersError):
    """The database cannot be reached or written just now (down, restarting, locked, disk full).

    Web requests answer 503 with Retry-After; commands print the message and exit 1. Nothing of
    the failed transaction was kept.
    """

    def __init__(self, message: str, *, retry_after_seconds: int = 5) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
