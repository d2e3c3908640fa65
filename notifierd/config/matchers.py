"""Alertmanager-syntax matchers (`=`, `!=`, `=~`, `!~`) over request fields, tags and labels."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from notifierd.request import Request

# Request fields a matcher name resolves to before it falls back to a label of that name.
REQUEST_FIELDS = (
    "severity",
    "priority",
    "kind",
    "action",
    "source",
    "protocol",
    "title",
    "template",
)

_MATCHER = re.compile(
    r"""^\s*(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*)\s*
        (?P<op>=~|!~|!=|=)\s*
        (?P<value>"(?:[^"\\]|\\.)*"|[^"\s=~!][^\s"]*|)\s*$""",
    re.VERBOSE,
)
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}


class MatcherError(ValueError):
    """A matcher string that does not parse; ``column`` is 0-based within the string."""

    def __init__(self, message: str, column: int = 0) -> None:
        super().__init__(message)
        self.column = column


@dataclass(frozen=True, slots=True)
class Matcher:
    """One ``name op value`` test; regexes are fully anchored, as in Alertmanager."""

    name: str
    op: str
    value: str
    regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @property
    def negative(self) -> bool:
        return self.op in ("!=", "!~")

    def matches_value(self, value: str) -> bool:
        """Test one string; an absent field is the empty string, as in Alertmanager."""
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        assert self.regex is not None
        hit = self.regex.fullmatch(value) is not None
        return hit if self.op == "=~" else not hit

    def matches(self, request: Request) -> bool:
        if self.name == "tags":
            tags = request.tags or ("",)
            if self.negative:
                # `tags!="x"` means no tag is x, not "some tag is not x".
                positive = "=" if self.op == "!=" else "=~"
                return not any(self._with_op(positive, t) for t in tags)
            return any(self.matches_value(t) for t in tags)
        return self.matches_value(request.lookup(self.name))

    def _with_op(self, op: str, value: str) -> bool:
        if op == "=":
            return value == self.value
        assert self.regex is not None
        return self.regex.fullmatch(value) is not None

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'{self.name}{self.op}"{escaped}"'


def _unquote(raw: str, offset: int) -> str:
    if not raw.startswith('"'):
        return raw
    out = []
    i = 1
    while i < len(raw) - 1:
        ch = raw[i]
        if ch == "\\":
            nxt = raw[i + 1]
            if nxt not in _ESCAPES:
                raise MatcherError(f"unknown escape \\{nxt} in matcher value", offset + i)
            out.append(_ESCAPES[nxt])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


# A matcher is parsed where it is checked and again where the snapshot is built, and the same
# ones recur across routes (1,418 matchers, 324 different, in the benchmark repository): a
# regex is compiled twice per parse, more than `re`'s own cache of 512 keeps. A Matcher is
# immutable, so one parse serves every use of its text; a bad one raises each time.
@lru_cache(maxsize=4096)
def parse_matcher(text: str) -> Matcher:
    """Parse ``name op "value"`` (the value may be unquoted when it has no spaces)."""
    m = _MATCHER.match(text)
    if m is None:
        raise MatcherError(
            f"invalid matcher {text!r}: expected name, an operator (=, !=, =~, !~) and a value, "
            'e.g. severity="critical" or tags=~"deploy.*"',
            _first_bad_column(text),
        )
    name, op = m.group("name"), m.group("op")
    value = _unquote(m.group("value"), m.start("value"))
    regex = None
    if op in ("=~", "!~"):
        try:
            re.compile(value)  # compiled bare first so the error position is within the value
            regex = re.compile(f"(?:{value})", re.DOTALL)
        except re.error as exc:
            column = m.start("value") + (1 if m.group("value").startswith('"') else 0)
            column += exc.pos or 0
            raise MatcherError(f"invalid regular expression {value!r}: {exc.msg}", column) from None
    return Matcher(name=name, op=op, value=value, regex=regex)


def _first_bad_column(text: str) -> int:
    """Best guess at where a malformed matcher goes wrong, for the error's column."""
    name = re.match(r"\s*[A-Za-z_][A-Za-z0-9_.\-]*", text)
    if not name:
        return len(text) - len(text.lstrip())
    op = re.match(r"\s*(=~|!~|!=|=)\s*", text[name.end() :])
    if not op:
        return name.end()
    start = name.end() + op.end()
    # Past a well-formed value, the fault is whatever follows it (`a="x" junk`, `a=x"y`);
    # an opening quote that never closes is the fault itself.
    value = re.compile(r'"(?:[^"\\]|\\.)*"|[^"\s=~!][^\s"]*').match(text, start)
    if value is None:
        return start
    return value.end() + len(text[value.end() :]) - len(text[value.end() :].lstrip())
