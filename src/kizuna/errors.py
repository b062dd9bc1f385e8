"""One exception hierarchy for the whole platform.

Every error carries a human sentence (``message``), an optional ``hint`` saying how to fix
the problem, and structured ``fields`` (file, field, value, ...) that tests and the API can
assert on. Each class knows its HTTP status; the CLI prints ``str(error)`` as one line on
stderr and exits with ``exit_code``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class KizunaError(Exception):
    """Base of every error Kizuna raises on purpose."""

    status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1
    code: ClassVar[str] = "error"

    def __init__(self, message: str, *, hint: str | None = None, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.fields: dict[str, Any] = fields

    def __str__(self) -> str:
        text = " ".join(self.message.split())
        if self.hint:
            text = f"{text} ({' '.join(self.hint.split())})"
        return text

    def to_dict(self) -> dict[str, Any]:
        """The single error body the JSON API renders."""
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.hint:
            body["hint"] = self.hint
        body.update({k: v for k, v in self.fields.items() if _jsonable(v)})
        return body


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | list | tuple)


class InputError(KizunaError):
    """Bad input from a user: a file, a field, an argument value."""

    status = 400
    code = "bad-input"


class UsageError(InputError):
    """A bad command-line argument: exit code 2, like the argument parser's own errors."""

    exit_code = 2
    code = "bad-argument"


class NotFoundError(KizunaError):
    """Something named does not exist (a mineral, a year, a group, a stored record)."""

    status = 404
    code = "not-found"


class ConfigError(KizunaError):
    """Settings that cannot be used (bad config file, bad env value, placeholder secret)."""

    status = 500
    exit_code = 2
    code = "bad-config"


class DataError(KizunaError):
    """A source dataset that does not have the shape its importer expects."""

    status = 500
    code = "bad-data"


class StoreError(KizunaError):
    """The store failed (server unreachable, file locked, driver error); wraps driver errors."""

    status = 503
    code = "store-unavailable"


class ConflictError(KizunaError):
    """A write that conflicts with what is stored."""

    status = 409
    code = "conflict"


class MissingExtraError(KizunaError):
    """An optional dependency is not installed; names the extra that provides it."""

    status = 501
    code = "missing-extra"

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(
            f"the optional module {module!r} is not installed",
            hint=f"install it with: pip install 'kizuna[{extra}]'",
            module=module,
            extra=extra,
        )
