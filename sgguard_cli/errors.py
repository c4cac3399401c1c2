"""The CLI's one error style: ``sgguard: error: ...`` on stderr and an exit status.

Exit status: 0 ok; 1 a check or command found problems (a preflight ✗, an invalid policy, a handler
that raised, no result in time); 2 usage error (bad arguments, unreadable input file); 3 cloud or
configuration error (missing credentials or parameters, an API call that failed, an invalid template).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = [
    "OK",
    "PROBLEMS",
    "USAGE",
    "CLOUD",
    "CliError",
    "UsageError",
    "ConfigError",
    "Problems",
    "cloud_errors",
]

OK, PROBLEMS, USAGE, CLOUD = 0, 1, 2, 3


class CliError(Exception):
    """Ends the command: ``sgguard: error: <message>`` on stderr, exit status ``code``."""

    code = CLOUD

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code


class UsageError(CliError):
    code = USAGE


class ConfigError(CliError):
    """Cloud or configuration: credentials, parameters, the template, a failed API call."""

    code = CLOUD


class Problems(CliError):
    """The command ran and found problems (it has already printed them)."""

    code = PROBLEMS


@contextmanager
def cloud_errors(reading: str = "the project") -> Iterator[None]:
    """A bad setting, a failed API call or time running out, as exit status 3 with its one line."""
    from shared.cloud.exceptions import CloudCallError, DeadlineExceeded
    from shared.config import ConfigError as SettingError

    try:
        yield
    except SettingError as error:
        raise ConfigError(str(error)) from None
    except CloudCallError as error:
        raise ConfigError(error.describe()) from None
    except DeadlineExceeded as error:
        raise ConfigError(f"{reading} could not be read in time: {error}") from None
