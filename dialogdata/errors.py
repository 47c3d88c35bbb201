"""The exception tree; data problems are reject and issue codes (see `dialogdata.codes`), not these.

DialogdataError                     every error the CLI reports as one line
├── UsageError (ValueError)         a bad option, argument or config value: exit 2
│   └── ConfigError                 a recipe or mapping file that cannot be used
├── InputError (OSError)            an input path that is missing or cannot be read: exit 2
├── OutputError (OSError)           the output folder cannot be written: exit 3
└── AccountingError                 a run's counts do not add up (a bug): nothing is published, exit 3
"""

from __future__ import annotations


class DialogdataError(Exception):
    """Base of every dialogdata error; carries where it happened and the CLI exit code."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        where = self.path or ""
        if where and self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}" if where else self.message


class UsageError(DialogdataError, ValueError):
    """An option, argument or value that cannot be used; the message says what would work."""


class ConfigError(UsageError):
    """A config or mapping file with an unknown key or a bad value."""


class InputError(DialogdataError, OSError):
    """An input path that does not exist or cannot be read."""


class OutputError(DialogdataError, OSError):
    """The output folder cannot be written or published."""

    exit_code = 3


class AccountingError(DialogdataError):
    """A run whose counts do not add up: some record has no fate or two. Never published."""

    exit_code = 3
