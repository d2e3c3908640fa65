"""The sandboxed Jinja environment every template runs in, and safe execution of one piece."""

from __future__ import annotations

import re
import types
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from jinja2 import ChainableUndefined, StrictUndefined, Template
from jinja2 import TemplateError as JinjaTemplateError
from jinja2.filters import do_format, do_indent, do_replace
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError, safe_range
from jinja2.utils import Namespace, missing, pass_eval_context

from notifierd.templates.errors import (
    Location,
    TemplateRenderError,
    TemplateSecurityError,
)
from notifierd.templates.filters import FILTERS
from notifierd.templates.markup import current_markup, escape_for

# Resource limits: the sandbox stops escapes, these stop a template from eating the daemon.
MAX_OUTPUT = 1_000_000  # characters one rendered piece (or any intermediate string) may reach
MAX_RANGE_TOTAL = 100_000  # items all range() calls of one render may produce together
MAX_POWER_BITS = 100_000  # size of an integer ``a ** b`` may reach

_PAD_METHODS = frozenset({"ljust", "rjust", "center", "zfill"})
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_BRACE_FIELD = re.compile(r"\{[^{}]*\{?[^{}]*\}?[^{}]*\}")
_DIGITS = re.compile(r"\d+")

_range_budget: ContextVar[list[int] | None] = ContextVar("notifierd_range_budget", default=None)


class MissingVariable(StrictUndefined):
    """StrictUndefined whose message names the variable the way a config author thinks of it."""

    # Private Jinja API (checked on 3.1, pinned in pyproject.toml): Undefined's _undefined_*
    # attributes and jinja2.utils.missing; likewise wrap_str_format and unsafe_undefined below.

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        if not self._undefined_hint and self._undefined_obj is missing:
            return f"undefined variable {self._undefined_name!r}"
        return str(super()._undefined_message)


class OptionalVariable(ChainableUndefined):
    """A declared-but-absent optional variable: empty, falsy, iterable as nothing."""

    __slots__ = ()


def optional(name: str) -> OptionalVariable:
    return OptionalVariable(name=name)


def too_big(what: str) -> SecurityError:
    return SecurityError(f"template output too large: {what} exceeds {MAX_OUTPUT:,} characters")


def _check_size(value: Any) -> None:
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_OUTPUT:
        raise too_big(f"a {type(value).__name__} of {len(value):,} items")


def _check_widths(fmt: str, args: Any = ()) -> None:
    """Refuse format strings (``%9999999d``, ``{:>99999999}``) whose padding would explode."""
    numbers = [n for spec in _PERCENT_SPEC.findall(fmt) for n in spec]
    fields = _BRACE_FIELD.findall(fmt)
    numbers += [n for field in fields for n in _DIGITS.findall(field.partition(":")[2])]
    if any(n.isdigit() and int(n) > MAX_OUTPUT for n in numbers):
        raise too_big("a format width")
    # "%*d" and "{:>{}}" take their width from the arguments: check the numbers passed.
    if "*" in numbers or any("{" in field[1:] for field in fields):
        if isinstance(args, Mapping):
            values = list(args.values())
        else:
            values = list(args) if isinstance(args, (tuple, list)) else [args]
        if any(isinstance(v, int) and v > MAX_OUTPUT for v in values):
            raise too_big("a format width")


def _check_repeat(left: Any, right: Any) -> None:
    seq, count = (left, right) if isinstance(right, int) else (right, left)
    if not isinstance(seq, (str, list, tuple)) or not isinstance(count, int):
        return
    if len(seq) * count > MAX_OUTPUT:
        raise too_big(f"repeating {len(seq):,} items {count:,} times")


def _check_power(left: Any, right: Any) -> None:
    if not isinstance(left, int) or not isinstance(right, int):
        return
    if right > 1 and max(left.bit_length(), 1) * right > MAX_POWER_BITS:
        raise SecurityError(f"template arithmetic too large: {left} ** {right}")


def _check_str_method(method: Any, args: tuple[Any, ...]) -> None:
    if not isinstance(method, types.BuiltinMethodType) or not isinstance(method.__self__, str):
        return
    name, text = method.__name__, method.__self__
    first = args[0] if args else None
    if name in _PAD_METHODS and isinstance(first, int):
        grown = first
    elif name == "expandtabs" and isinstance(first, int):
        grown = first * text.count("\t")
    elif name == "replace" and len(args) >= 2 and isinstance(first, str) and first:
        grown = text.count(first) * len(str(args[1]))
    else:
        grown = 0
    if grown > MAX_OUTPUT:
        raise too_big(f"{name}()")


def _budgeted_range(*args: int) -> range:
    rng = safe_range(*args)
    budget = _range_budget.get()
    if budget is not None:
        budget[0] -= len(rng)
        if budget[0] < 0:
            raise SecurityError(
                f"template loops too much: range() produced more than {MAX_RANGE_TOTAL:,} items"
            )
    return rng


class _GuardedNamespace(Namespace):
    """``namespace()`` whose attributes cannot grow past the output limit across loop turns."""

    def __setitem__(self, name: str, value: Any) -> None:
        _check_size(value)
        super().__setitem__(name, value)


class NotifierdSandbox(ImmutableSandboxedEnvironment):
    """Immutable sandbox with clear refusals and limits on output size and loop length."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repeat(left, right)
        elif operator == "**":
            _check_power(left, right)
        elif operator == "%" and isinstance(left, str):
            _check_widths(left, right)
        result = super().call_binop(context, operator, left, right)
        _check_size(result)
        return result

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        return self.undefined(
            f"template tried to access unsafe attribute {attribute!r} "
            f"of {type(obj).__name__!r} object",
            name=attribute,
            obj=obj,
            exc=SecurityError,
        )

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if not __self.is_safe_callable(__obj):
            raise SecurityError(f"template tried to call unsafe {__obj!r}")
        _check_str_method(__obj, args)
        for arg in (*args, *kwargs.values()):
            _check_size(arg)
        result = __context.call(__obj, *args, **kwargs)
        _check_size(result)
        return result

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt = value.__self__

        def checked(*args: Any, **kwargs: Any) -> str:
            _check_widths(fmt, (*args, *kwargs.values()))
            result: str = wrapped(*args, **kwargs)
            return result

        return checked


def _center(value: str, width: int = 80) -> str:
    if isinstance(width, int) and width > MAX_OUTPUT:
        raise too_big(f"center({width:,})")
    return str(value).center(width)


def _indent(s: str, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    if isinstance(width, int) and width * (str(s).count("\n") + 1) > MAX_OUTPUT:
        raise too_big("indent()")
    if isinstance(width, str) and len(width) * (str(s).count("\n") + 1) > MAX_OUTPUT:
        raise too_big("indent()")
    return do_indent(s, width, first, blank)


@pass_eval_context
def _replace(eval_ctx: Any, s: str, old: str, new: str, count: int | None = None) -> str:
    if old and str(s).count(str(old)) * len(str(new)) > MAX_OUTPUT:
        raise too_big("replace()")
    return do_replace(eval_ctx, s, old, new, count)


def _format(value: str, *args: Any, **kwargs: Any) -> str:
    _check_widths(str(value), args)
    return do_format(value, *args, **kwargs)


def _finalize(value: Any) -> Any:
    # A JSON null in the context reads as nothing, not as the word "None".
    if value is None:
        return ""
    # Where request data enters the output: escaped for the markup of the leaf being rendered
    # (markup.markup_scope). Jinja also runs this on constant {{ 'literals' }} when it compiles,
    # outside any scope: what the template wrote itself stays as written.
    return escape_for(current_markup(), value)


def _make_environment() -> NotifierdSandbox:
    env = NotifierdSandbox(
        undefined=MissingVariable,
        autoescape=False,  # html pieces turn it on with {% autoescape true %} around them
        trim_blocks=True,  # a {% tag %} on its own line leaves no blank line behind
        lstrip_blocks=True,
        keep_trailing_newline=False,
        finalize=_finalize,
        auto_reload=False,
        cache_size=0,
    )
    env.filters.update(FILTERS)
    env.filters.update(center=_center, indent=_indent, replace=_replace, format=_format)
    env.globals.update(range=_budgeted_range, namespace=_GuardedNamespace)
    # lipsum(n) builds n paragraphs of random text in pure Python on the event loop: seconds
    # of CPU for a large n, and nothing a notification needs.
    del env.globals["lipsum"]
    return env


ENV = _make_environment()
# Names a template may use without declaring them (range, dict, cycler, ...).
GLOBAL_NAMES = frozenset(ENV.globals) | {"loop", "caller", "varargs", "kwargs", "self"}


@contextmanager
def render_scope() -> Iterator[None]:
    """One render: every range() inside shares one loop budget."""
    token = _range_budget.set([MAX_RANGE_TOTAL])
    try:
        yield
    finally:
        _range_budget.reset(token)


def _template_line(template: Template, exc: BaseException) -> int | None:
    """The template line of the innermost frame that ran this template's code."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == template.filename:
            line = template.get_corresponding_lineno(tb.tb_lineno)
        tb = tb.tb_next
    return line


def translate(exc: Exception, location: Location, line: int | None) -> TemplateRenderError:
    """The TemplateRenderError (or TemplateSecurityError) to raise for ``exc``."""
    if isinstance(exc, SecurityError):
        return TemplateSecurityError(str(exc), location, line)
    if isinstance(exc, JinjaTemplateError):
        return TemplateRenderError(str(exc), location, line)
    if isinstance(exc, RecursionError):
        return TemplateSecurityError("template recursion too deep", location, line)
    # Our filters raise ValueError with a message that names the filter; say it as is.
    message = str(exc) if type(exc) is ValueError else f"{type(exc).__name__}: {exc}"
    return TemplateRenderError(message, location, line)


def run_block(
    template: Template,
    block: str,
    parent: dict[str, Any],
    location: Location,
    first_line: int,
) -> str:
    """Render one ``{% block %}`` of ``template``; every failure becomes a TemplateRenderError."""
    # shared=True: ``parent`` already holds the globals, so Jinja need not copy it per piece.
    # Template.blocks (a block's render function) is undocumented Jinja API, checked on 3.1.
    context = template.new_context(parent, shared=True)
    size = 0
    parts: list[str] = []
    try:
        for chunk in template.blocks[block](context):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise too_big(f"the rendered {'.'.join(map(str, location))}")
            parts.append(chunk)
    except Exception as exc:
        line = _template_line(template, exc)
        piece_line = line - first_line + 1 if line is not None and line >= first_line else None
        raise translate(exc, location, piece_line) from None
    return "".join(parts)
