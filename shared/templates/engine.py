"""Rendering the automatic mail's templates in Jinja2's sandbox: a template reaches the values it is
given, never Python objects behind them, and a name it does not know is an error
(``StrictUndefined``), not an empty string.

A part left out is derived from the parts given: no body part given, the stock text and HTML; text
only, a plain-text mail (no stock HTML beside it); HTML only, the text derived from the HTML. A part
that fails when rendered (a stored template is checked when stored, but a mail can still hold what
the sample did not) falls back to the stock one, and the reason is returned."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from shared.templates.defaults import DEFAULTS
from shared.templates.htmltext import text_from_html


@dataclass(frozen=True)
class TemplateProblem:
    """Why a template does not compile or render: ``template`` is ``kind.part``, ``line`` its line
    (None when the problem is not on a line, e.g. an unknown kind)."""

    template: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        return f"{self.template}{f', line {self.line}' if self.line else ''}: {self.reason}"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None  # None: a plain-text mail
    problems: tuple[TemplateProblem, ...] = ()


@cache
def environment(html: bool) -> ImmutableSandboxedEnvironment:
    """The one sandbox each kind of part is compiled in, when checked and when rendered."""
    return ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=html)


def problem_of(exc: Exception, template: str) -> TemplateProblem:
    """The template's line: a syntax error knows it; a render error's traceback holds the template's
    frames (Jinja2 rewrites them to the template's lines)."""
    line = exc.lineno if isinstance(exc, TemplateSyntaxError) else None
    if line is None:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<template>"]
        line = frames[-1].lineno if frames else None
    message = (exc.message if isinstance(exc, TemplateError) else None) or str(exc)
    return TemplateProblem(template, line, f"{type(exc).__name__}: {message}")


class MailTemplates:
    def __init__(self) -> None:
        # Compiling is most of the cost of a render: keep each source's compiled template (the
        # defaults and each account's overrides; an override edited in the database is a new source).
        self._compiled: dict[tuple[bool, str], Template] = {}

    def compiled(self, source: str, html: bool) -> Template:
        key = (html, source)
        template = self._compiled.get(key)
        if template is None:
            if len(self._compiled) >= 512:
                self._compiled.clear()
            template = self._compiled[key] = environment(html).from_string(source)
        return template

    def _part(self, kind: str, part: str, source: str, context: dict[str, Any],
              problems: list[TemplateProblem]) -> str | None:
        try:
            return self.compiled(source, part == "html").render(context)
        except Exception as exc:  # an admin's template may fail any way (1/0, a filter's TypeError)
            problems.append(problem_of(exc, f"{kind}.{part}"))
            return None

    def _body(self, kind: str, given: dict[str, str], context: dict[str, Any],
              problems: list[TemplateProblem]) -> tuple[str, str | None] | None:
        """The body from the parts given, or None for the stock one."""
        if "text" not in given and "html" not in given:
            return None
        text = self._part(kind, "text", given["text"], context, problems) if "text" in given else None
        html = self._part(kind, "html", given["html"], context, problems) if "html" in given else None
        if ("text" in given and text is None) or ("html" in given and html is None):
            return None  # a body part given failed: the stock mail, not half of each
        return (text if text is not None else text_from_html(html or "")), html

    def render(self, kind: str, context: dict[str, Any], overrides: dict[str, str] | None = None) -> Rendered:
        stock = DEFAULTS[kind]
        given = {p: s for p, s in (overrides or {}).items() if isinstance(s, str) and s.strip()}
        problems: list[TemplateProblem] = []
        subject = self._part(kind, "subject", given["subject"], context, problems) if "subject" in given else None
        if subject is None:
            subject = self.compiled(stock["subject"], False).render(context)
        body = self._body(kind, given, context, problems)
        if body is None:
            body = (self.compiled(stock["text"], False).render(context),
                    self.compiled(stock["html"], True).render(context))
        return Rendered(" ".join(subject.split()), body[0], body[1], tuple(problems))
