"""Templates: a sandboxed Jinja environment, compiled template versions, per-channel messages."""

from notifierd.templates.catalog import TemplateCatalog
from notifierd.templates.checks import render_examples, undeclared_problems, undeclared_variables
from notifierd.templates.compiled import CompiledTemplate
from notifierd.templates.compiler import compile_template
from notifierd.templates.errors import (
    TemplateCompileError,
    TemplateContextError,
    TemplateError,
    TemplateNotFound,
    TemplateProblem,
    TemplateRenderError,
    TemplateSecurityError,
)
from notifierd.templates.message import RenderedMessage, render_plain
from notifierd.templates.variables import BASE_FIELDS

__all__ = [
    "BASE_FIELDS",
    "CompiledTemplate",
    "RenderedMessage",
    "TemplateCatalog",
    "TemplateCompileError",
    "TemplateContextError",
    "TemplateError",
    "TemplateNotFound",
    "TemplateProblem",
    "TemplateRenderError",
    "TemplateSecurityError",
    "compile_template",
    "render_examples",
    "render_plain",
    "undeclared_problems",
    "undeclared_variables",
]
