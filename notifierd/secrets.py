"""Credentials by name: from the environment, else from the secrets file (NOTIFIERD_SECRETS_FILE).

The file holds ``KEY=VALUE`` lines and ``#`` comments. It must not be readable by its group or
by others: a secret that anyone on the host can read is not one, so such a file is refused.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

SECRETS_FILE_ENV = "NOTIFIERD_SECRETS_FILE"


class SecretsError(ValueError):
    """The secrets file is missing, unreadable, too open or malformed; the message says which."""


def read_secrets_file(path: str | Path) -> dict[str, str]:
    """The ``KEY=VALUE`` pairs of ``path``, refusing a group- or world-readable file."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SecretsError(f"cannot read the secrets file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise SecretsError(f"the secrets file {path} is not UTF-8 text") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretsError(
            f"the secrets file {path} is readable by its group or others "
            f"(mode {stat.S_IMODE(mode):o}); run: chmod 600 {path}"
        )
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key:
            raise SecretsError(f"{path}:{number}: expected KEY=VALUE")
        values[key] = value.strip()
    return values


class Secrets:
    """Looks a credential up by name: the environment first, then the secrets file, if any."""

    def __init__(self, environ: Mapping[str, str], file_values: Mapping[str, str]) -> None:
        self._environ = environ
        self._file_values = file_values

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None) -> Secrets:
        """From ``environ`` (the process environment by default) and the file it names."""
        env = os.environ if environ is None else environ
        path = env.get(SECRETS_FILE_ENV)
        return cls(env, read_secrets_file(path) if path else {})

    def get(self, name: str) -> str | None:
        """The value of ``name``; None when neither source has it (an empty value is none)."""
        return self._environ.get(name) or self._file_values.get(name) or None
