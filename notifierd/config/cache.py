"""Remember which repository contents already passed validate, so `test` after `validate` in one CI
job does not compile and render every template a second time.

The key covers the notifierd version, the installed schemas and every config file's bytes: any
change to any of them is a miss. `validate` itself never trusts the cache; it only fills it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from notifierd import __version__
from notifierd.config.schemas import schemas_dir


def _dir() -> Path:
    base = os.environ.get("NOTIFIERD_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "notifierd"
    )
    return Path(base) / "validated"


def key(content_hash: str) -> str:
    digest = hashlib.sha256(f"{__version__}\0{content_hash}".encode())
    for path in sorted(schemas_dir().glob("*.json")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def known_valid(content_hash: str) -> bool:
    return (_dir() / key(content_hash)).exists()


def remember_valid(content_hash: str) -> None:
    try:
        folder = _dir()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / key(content_hash)).touch()
    except OSError:  # a read-only home is no reason to fail a validation
        pass
