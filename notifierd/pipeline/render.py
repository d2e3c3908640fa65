"""The render stage: which template a delivery uses, and the fallback when a route's cannot render."""

from __future__ import annotations

from notifierd.request import Request, TemplateRef
from notifierd.templates import RenderedMessage, TemplateCatalog, TemplateError, render_plain
from notifierd.valueclass import value_class


@value_class
class Rendered:
    message: RenderedMessage | None
    template: str | None  # name@version used; None for plain title + message
    note: str | None = None  # why a route's template was not used
    error: str | None = None  # set when the request's own template cannot render: permanent


class Renderer:
    """Renders each (template, channel type) once per request."""

    def __init__(self, catalog: TemplateCatalog, request: Request) -> None:
        self.catalog = catalog
        self.request = request
        self._cache: dict[tuple[str | None, str, str], Rendered] = {}

    def render(
        self, template: TemplateRef | None, template_from: str, channel_type: str
    ) -> Rendered:
        key = (str(template) if template else None, template_from, channel_type)
        if key not in self._cache:
            self._cache[key] = self._render(template, template_from, channel_type)
        return self._cache[key]

    def _render(
        self, template: TemplateRef | None, template_from: str, channel_type: str
    ) -> Rendered:
        if template is None:
            return Rendered(render_plain(self.request, channel_type), None)
        try:
            message = self.catalog.render(template, self.request, channel_type)
        except TemplateError as exc:
            if template_from == "request":
                return Rendered(
                    None,
                    str(template),
                    error=f"template {template} cannot render this request: {exc}",
                )
            # A route's default template must never cost an alert: send plain text, say why.
            note = f"route template {template} could not render this request ({exc}); sent as plain title + message"
            return Rendered(render_plain(self.request, channel_type), None, note=note)
        return Rendered(message, message.template)
