"""Find the files of a config repository and read them as text, reporting misplaced ones."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from notifierd.config.problems import Problem

ROUTES_FILE = "routes.yaml"
TESTS_DIR = "tests"  # config tests: `notifierd test`
POLICY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
TEMPLATE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
TEMPLATE_VERSION = re.compile(r"^v?[0-9]+(\.[0-9]+)*([-.][A-Za-z0-9]+)?$")
MAX_FILE_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class SourceFile:
    rel_path: str  # posix, relative to the config root
    kind: str  # "routes" | "policy" | "schedule" | "template"
    text: str
    raw: bytes
    name: str = ""  # policy or schedule id, or template name
    version: str = ""  # template version


def config_test_files(root: str | Path) -> list[Path]:
    """The config test files of a repository, sorted; empty when it has no tests folder."""
    folder = Path(root) / TESTS_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))


def discover(root: Path) -> tuple[list[SourceFile], list[Problem]]:
    """Every config file under ``root`` with its kind, plus problems for misplaced or unreadable ones."""
    files: list[SourceFile] = []
    problems: list[Problem] = []

    def read(path: Path, kind: str, name: str = "", version: str = "") -> None:
        rel = path.relative_to(root).as_posix()
        try:
            raw = path.read_bytes()
        except OSError as exc:
            problems.append(Problem(rel, 1, 1, f"cannot read file: {exc.strerror}", code="io"))
            return
        if len(raw) > MAX_FILE_BYTES:
            problems.append(
                Problem(rel, 1, 1, "file is larger than 1 MiB; split it", code="too-large")
            )
            return
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            problems.append(
                Problem(rel, line, 1, "file is not UTF-8 text (binary file?)", code="encoding")
            )
            return
        files.append(SourceFile(rel, kind, text, raw, name, version))

    routes = root / ROUTES_FILE
    if routes.is_file():
        read(routes, "routes")
    else:
        hint = (
            " (found routes.yml: rename it to routes.yaml)"
            if (root / "routes.yml").exists()
            else ""
        )
        problems.append(
            Problem(
                ROUTES_FILE,
                1,
                1,
                f"missing {ROUTES_FILE}: every config repository needs one{hint}",
                code="missing",
            )
        )

    # One file per id: policies/<id>.yaml and schedules/<id>.yaml.
    for folder, kind in (("policies", "policy"), ("schedules", "schedule")):
        directory = root / folder
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            rel = path.relative_to(root).as_posix()
            if path.suffix == ".yml":
                problems.append(
                    Problem(rel, 1, 1, f"{kind} files end in .yaml; rename it", code="misplaced")
                )
            elif path.suffix != ".yaml" or not path.is_file():
                continue
            elif not POLICY_ID.match(path.stem):
                problems.append(
                    Problem(
                        rel,
                        1,
                        1,
                        f"invalid {kind} id '{path.stem}': use letters, digits, '_', '.', '-'",
                        code="bad-name",
                    )
                )
            else:
                read(path, kind, name=path.stem)

    templates = root / "templates"
    if templates.is_dir():
        for entry in sorted(templates.iterdir()):
            rel = entry.relative_to(root).as_posix()
            if entry.is_file():
                if entry.suffix in (".yaml", ".yml"):
                    problems.append(
                        Problem(
                            rel,
                            1,
                            1,
                            "a template version lives at templates/<name>/<version>.yaml; move it into a folder named after the template",
                            code="misplaced",
                        )
                    )
                continue
            if not TEMPLATE_NAME.match(entry.name):
                problems.append(
                    Problem(
                        rel,
                        1,
                        1,
                        f"invalid template name '{entry.name}': use lower-case letters, digits, '_' and '-'",
                        code="bad-name",
                    )
                )
                continue
            for path in sorted(entry.iterdir(), key=lambda p: p.name):
                vrel = path.relative_to(root).as_posix()
                if path.suffix == ".yml":
                    problems.append(
                        Problem(
                            vrel, 1, 1, "template files end in .yaml; rename it", code="misplaced"
                        )
                    )
                elif path.suffix != ".yaml" or not path.is_file():
                    continue
                elif not TEMPLATE_VERSION.match(path.stem):
                    problems.append(
                        Problem(
                            vrel,
                            1,
                            1,
                            f"invalid template version '{path.stem}': name the file after its version, e.g. 1.0.yaml",
                            code="bad-name",
                        )
                    )
                else:
                    read(path, "template", name=entry.name, version=path.stem)
    return files, problems
