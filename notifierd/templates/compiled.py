"""A compiled template version, and rendering it per channel type."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from notifierd.config.model import TemplateVersion
from notifierd.request import Request
from notifierd.templates import fast_path
from notifierd.templates.environment import ENV, render_scope, run_block
from notifierd.templates.errors import Location, TemplateRenderError
from notifierd.templates.markup import (
    Markup,
    is_link_target,
    leaf_markup,
    markup_scope,
    mention_scope,
    shorten,
    variant_markup,
)
from notifierd.templates.message import (
    VARIANTS_FOR,
    RenderedMessage,
    build_message,
    check_channel_type,
)
from notifierd.templates.pieces import Cond, Piece, Shapes, Slot
from notifierd.templates.slack import clamp_blocks
from notifierd.templates.variables import TemplateVariables

_NEWLINE_RUN = re.compile(r"\s*\n\s*")
_BLANK_LINES = re.compile(r"\n{3,}")
_DROP = object()


class CompiledTemplate:
    """A template version compiled once; ``render`` is cheap and safe to call concurrently."""

    def __init__(
        self,
        version: TemplateVersion,
        pieces: tuple[Piece, ...],
        shapes: Shapes,
        undeclared: dict[str, tuple[Location, int | None]],
        variables: TemplateVariables,
    ) -> None:
        self.version = version
        self.pieces = pieces
        self.shapes = shapes
        # name -> (location, line) of its first use; not declared, not a request field.
        self.undeclared = undeclared
        self.variables = variables
        self._globals = dict(ENV.globals)

    @property
    def ref(self) -> str:
        return self.version.ref

    def __repr__(self) -> str:
        return f"<CompiledTemplate {self.ref}>"

    def render(
        self,
        context: Mapping[str, Any] | None = None,
        channel_type: str | None = None,
        *,
        base: Mapping[str, Any] | None = None,
        mentionable: frozenset[str] = frozenset(),
    ) -> RenderedMessage:
        """Render for ``channel_type`` (None: every channel type); ``base`` = request fields;
        ``mentionable``: the Slack user ids ``slack_mention`` may mention (people's).

        Raises TemplateContextError (context does not fit ``variables``) or TemplateRenderError
        (TemplateSecurityError for sandbox violations).
        """
        with mention_scope(mentionable):
            return self._render(context, channel_type, base, None)

    def render_collecting(
        self,
        context: Mapping[str, Any] | None = None,
        *,
        base: Mapping[str, Any] | None = None,
        mentionable: frozenset[str] = frozenset(),
    ) -> tuple[RenderedMessage, list[TemplateRenderError]]:
        """Render every part, collecting each part's failure instead of stopping at the first."""
        errors: list[TemplateRenderError] = []
        with mention_scope(mentionable):
            return self._render(context, None, base, errors), errors

    def render_request(
        self,
        request: Request,
        channel_type: str | None = None,
        mentionable: frozenset[str] = frozenset(),
    ) -> RenderedMessage:
        """Render with the request's fields laid under its ``context``."""
        return self.render(
            request.context, channel_type, base=request.base_context(), mentionable=mentionable
        )

    def _render(
        self,
        context: Mapping[str, Any] | None,
        channel_type: str | None,
        base: Mapping[str, Any] | None,
        errors: list[TemplateRenderError] | None,
    ) -> RenderedMessage:
        wants = VARIANTS_FOR.get(channel_type)
        if wants is None:
            check_channel_type(channel_type)
            wants = frozenset()
        parent = {**self._globals, **self.variables.build_context(context, base)}

        def part(render: Callable[[], Any], failed: Any) -> Any:
            if errors is None:
                return render()
            try:
                return render()
            except TemplateRenderError as exc:
                errors.append(exc)
                return failed

        shapes = self.shapes
        html = slack = teams = None
        with render_scope():
            subject = part(lambda: _clean_subject(self._piece(shapes.subject, parent)), "")
            text = part(lambda: _clean_text(self._piece(shapes.text, parent)), "")
            variant_parent = {**parent, "subject": subject}
            html_index = shapes.html
            if html_index is not None and "html" in wants:
                html = part(lambda: self._piece(html_index, variant_parent), None)
            if shapes.slack is not None and "slack" in wants:
                slack = part(lambda: self._variant("slack", shapes.slack, variant_parent), None)
                if isinstance(slack, list):
                    slack = clamp_blocks(slack)
            if shapes.teams is not None and "teams" in wants:
                teams = part(lambda: self._variant("teams", shapes.teams, variant_parent), None)
        return build_message(
            subject,
            text,
            channel_type,
            slack_blocks=slack,
            html=html,
            teams_card=teams,
            template=self.ref,
        )

    def _piece(self, index: int, parent: dict[str, Any]) -> str:
        piece = self.pieces[index]
        if piece.fast is not None:
            if piece.kind == "cond":
                hole = piece.fast[0]
                assert isinstance(hole, fast_path.Hole)
                return "1" if fast_path.truthy(hole, parent, piece.location) else ""
            return fast_path.render(piece.fast, parent, piece.location, piece.kind == "html")
        if piece.block is None or piece.template is None:
            return piece.source
        return run_block(piece.template, piece.block, parent, piece.location, piece.first_line)

    def _fill(self, shape: Any, parent: dict[str, Any], variant: str, markup: Markup) -> Any:
        """``shape`` filled in; ``markup``: how the leaf being filled reads request data."""
        if isinstance(shape, Slot):
            piece = self.pieces[shape.index]
            with markup_scope(markup):
                # Loops leave a trailing newline in leaves; Slack and Teams would trim it anyway.
                value = self._piece(shape.index, parent).rstrip()
            if markup is Markup.LINK and value and not is_link_target(value):
                raise TemplateRenderError(
                    f"{shorten(value)!r} is not an http(s) or mailto link", piece.location
                )
            return value
        if isinstance(shape, Cond):
            keep = shape.test if isinstance(shape.test, bool) else self._piece(shape.test, parent)
            return self._fill(shape.node, parent, variant, markup) if keep else _DROP
        if isinstance(shape, dict):
            kind = shape.get("type")
            filled = {
                k: self._fill(v, parent, variant, leaf_markup(variant, k, kind))
                for k, v in shape.items()
            }
            return {k: v for k, v in filled.items() if v is not _DROP}
        if isinstance(shape, list):
            items = [self._fill(item, parent, variant, markup) for item in shape]
            return [item for item in items if item is not _DROP]
        return shape

    def _variant(self, name: str, shape: Any, parent: dict[str, Any]) -> Any:
        value = self._fill(shape, parent, name, variant_markup(name))
        if value is _DROP:
            return None  # an `if:` on the whole variant: fall back to subject + text
        if isinstance(value, str):  # a variant written as one JSON string
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise TemplateRenderError(
                    f"the {name} variant did not render to valid JSON: {exc}", (name,)
                ) from None
        return value


def _clean_subject(subject: str) -> str:
    # A subject is one line: e-mail headers and Slack headers have no room for newlines.
    return _NEWLINE_RUN.sub(" ", subject).strip()


def _clean_text(text: str) -> str:
    lines = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", lines).strip("\n")
