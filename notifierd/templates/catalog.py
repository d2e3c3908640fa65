"""Resolving template references against one snapshot, and its compiled templates."""

from __future__ import annotations

from collections.abc import Mapping

from notifierd.config.model import Snapshot, TemplateVersion, version_key
from notifierd.request import Request, TemplateRef
from notifierd.templates.compiled import CompiledTemplate
from notifierd.templates.compiler import compile_template
from notifierd.templates.errors import TemplateNotFound
from notifierd.templates.message import RenderedMessage


class TemplateCatalog:
    """The templates of one snapshot: ``name`` is the newest version, ``name@version`` pinned."""

    def __init__(
        self, snapshot: Snapshot, compiled: Mapping[str, CompiledTemplate] | None = None
    ) -> None:
        """``compiled``: templates validation already compiled, by ref; others compile on use."""
        self.snapshot = snapshot
        self._compiled: dict[str, CompiledTemplate] = dict(compiled or {})
        # slack_mention mentions people from people: and nobody a request names by id.
        self.mentionable = frozenset(
            slack_id for person in snapshot.people.values() for slack_id in person.slack_ids
        )

    def names(self) -> list[str]:
        return sorted(self.snapshot.templates)

    def versions(self, name: str) -> list[TemplateVersion]:
        """Every version of ``name``, oldest first."""
        return sorted(self.snapshot.templates.get(name, ()), key=lambda tv: version_key(tv.version))

    def resolve(self, ref: TemplateRef | str) -> TemplateVersion:
        if isinstance(ref, str):
            ref = TemplateRef.parse(ref)
        versions = self.versions(ref.name)
        if not versions:
            known = ", ".join(self.names()) or "none"
            raise TemplateNotFound(f"unknown template {ref.name!r} (templates: {known})")
        if ref.version is None:
            return versions[-1]
        for tv in versions:
            if tv.version == ref.version:
                return tv
        known = ", ".join(tv.version for tv in versions)
        raise TemplateNotFound(
            f"template {ref.name!r} has no version {ref.version!r} (versions: {known})"
        )

    def compiled(self, ref: TemplateRef | str) -> CompiledTemplate:
        """The compiled template; validation already compiled it, else compile it once here."""
        tv = self.resolve(ref)
        found = self._compiled.get(tv.ref)
        if found is None:
            found = self._compiled[tv.ref] = compile_template(tv)
        return found

    def render(
        self, ref: TemplateRef | str, request: Request, channel_type: str | None = None
    ) -> RenderedMessage:
        """Render ``ref`` with the request's fields under its context, for ``channel_type``."""
        return self.compiled(ref).render_request(request, channel_type, self.mentionable)
