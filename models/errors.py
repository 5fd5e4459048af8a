"""Domain errors. Each carries a Chinese message; the CLI and the web only display it."""

from __future__ import annotations

from collections.abc import Iterable


class DomainError(Exception):
    """Base of every error a user can cause; str() is the message shown to them.

    `field` names, in domain words, what the user must give or change ("evidence", "unit",
    "township", ...): each edge adds its own hint for it (the CLI its option, the page its form
    field). The message itself names no option and no command."""

    field: str | None = None

    def __init__(self, *args: object, field: str | None = None) -> None:
        super().__init__(*args)
        if field is not None:
            self.field = field


class NotFound(DomainError):
    def __init__(
        self,
        kind: str,
        name: str,
        *,
        suggestions: Iterable[str] = (),
        hint: str | None = None,
        field: str | None = None,
    ) -> None:
        self.field = field
        self.kind = kind
        self.name = name
        self.suggestions = list(suggestions)
        message = f"找不到{kind}「{name}」"
        if self.suggestions:
            message += f"。您是不是要找:{'、'.join(self.suggestions)}"
        if hint:
            message += f"。{hint}"
        super().__init__(message)


class InvalidInput(DomainError):
    """A value that cannot be used as given (a date, a missing reason, ...)."""


class PermissionDenied(DomainError):
    pass


class InvalidTransition(DomainError):
    pass


class Conflict(DomainError):
    """Someone else changed the problem since it was read."""


class ImportRejected(DomainError):
    pass


class RegistrarUnknown(ImportRejected):
    """Nobody to record the findings as: no importer named, and the inspection has no leader."""

    def __init__(self, inspection: str) -> None:
        self.inspection = inspection
        super().__init__(f"不知道以谁的名义登记这些问题:没有指定导入人,督导「{inspection}」也没有督导组组长")
