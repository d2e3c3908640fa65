"""What each channel would receive from a template: ``template render`` and the HTTP API's
``POST /api/v1/templates/{name}/render`` both ask here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from notifierd.config.model import CHANNEL_TYPES, Snapshot
from notifierd.templates.catalog import TemplateCatalog
from notifierd.templates.errors import TemplateContextError, TemplateError, TemplateNotFound

# A real request always has an id (the Slack acknowledge buttons carry it).
PREVIEW_BASE = {"id": "preview"}


@dataclass(frozen=True, slots=True)
class Preview:
    """The template version rendered, the context it was given and each channel's content."""

    template: str
    context: dict[str, Any]
    channels: dict[str, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class PreviewRefused:
    """Why nothing was rendered. ``about``: what was wrong — ``unknown`` (no such template or
    version), ``example`` (no such example), ``template`` (it fails to compile or render) or
    ``context``; ``try_example``: a context given alone lacked variables that laying it over an
    example would supply."""

    reason: str
    about: Literal["unknown", "example", "template", "context"]
    try_example: bool = False


def channel_targets(snapshot: Snapshot, channel: str | None) -> list[tuple[str, str]] | str:
    """(label, channel type) pairs to render: every type, or the one ``channel`` (a type or a
    channel name) means; a string saying why when it means none."""
    if channel is None:
        return [(t, t) for t in CHANNEL_TYPES]
    if channel in CHANNEL_TYPES:
        return [(channel, channel)]
    if channel in snapshot.channels:
        kind = snapshot.channels[channel].type
        return [(f"{channel} ({kind})", kind)]
    known = ", ".join([*CHANNEL_TYPES, *sorted(snapshot.channels)])
    return f"{channel!r} is neither a channel type nor a channel of this config ({known})"


def preview(
    catalog: TemplateCatalog,
    targets: list[tuple[str, str]],
    ref: str,
    extra: Mapping[str, Any] | None = None,
    example: int | None = None,
) -> Preview | PreviewRefused:
    """Render ``ref`` (``name`` or ``name@version``) for each target: from the template's
    example ``example`` (1-based; the first when no ``extra`` context is given) with ``extra``
    laid over it."""
    try:
        compiled = catalog.compiled(ref)
    except TemplateNotFound as exc:
        return PreviewRefused(str(exc), "unknown")
    except TemplateError as exc:
        return PreviewRefused(str(exc), "template")
    tv = compiled.version
    examples = tv.examples
    if example is not None and not 1 <= example <= len(examples):
        return PreviewRefused(
            f"{tv.ref} has {len(examples)} example(s); there is no example {example}", "example"
        )
    index = (example or 1) - 1
    context = dict(examples[index]) if examples and (example or extra is None) else {}
    context.update(extra or {})
    try:
        rendered = {
            label: compiled.render(
                context, kind, base=PREVIEW_BASE, mentionable=catalog.mentionable
            ).for_channel(kind)
            for label, kind in targets
        }
    except TemplateContextError as exc:
        alone = extra is not None and example is None and bool(examples)
        return PreviewRefused(str(exc), "context", try_example=alone)
    except TemplateError as exc:
        return PreviewRefused(str(exc), "template")
    return Preview(tv.ref, context, rendered)
