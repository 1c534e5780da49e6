"""Outgoing mail bodies from templates an admin may edit, rendered in Jinja2's sandbox: a template
reaches the values it is given (plain dicts and strings), never Python objects behind them.

Each kind (auto-reply, created, updated, status-changed) has a subject, a text and an HTML template;
an account may override any of them under ``templates.<kind>`` in its configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from shared.logging import get_logger

log = get_logger("postroom.notifier.templates")

DEFAULTS: dict[str, dict[str, str]] = {
    "auto-reply": {
        "subject": "{{ token }} {{ mail.subject or '(no subject)' }}",
        "text": ("Hello {{ mail.from_name or '' }},\n\nthank you for your message. We have recorded it as "
                 "{{ item.type }} {{ token }}: {{ item.title }}\n\nReply to this mail to add to it; keep "
                 "{{ token }} in the subject.\n\n{{ account.address }}\n"),
        "html": ("<p>Hello {{ mail.from_name or '' }},</p><p>thank you for your message. We have recorded it as "
                 "{{ item.type }} <b>{{ token }}</b>: {{ item.title }}</p><p>Reply to this mail to add to it; "
                 "keep {{ token }} in the subject.</p>"),
    },
    "created": {
        "subject": "{{ token }} New {{ item.type }}: {{ item.title }}",
        "text": "A new {{ item.type }} {{ token }} was created from a mail by {{ mail.from_address }}:\n\n"
                "{{ item.title }}\n",
        "html": "<p>A new {{ item.type }} <b>{{ token }}</b> was created from a mail by {{ mail.from_address }}:</p>"
                "<p>{{ item.title }}</p>",
    },
    "updated": {
        "subject": "{{ token }} Updated: {{ item.title }}",
        "text": ("{% if actor %}{{ actor }} changed {{ item.type }} {{ token }} ({{ item.title }}):\n"
                 "{% for c in changes %}  {{ c.field }}: {{ c.before if c.before is not none else '-' }} -> "
                 "{{ c.after if c.after is not none else '-' }}\n{% endfor %}"
                 "{% else %}{{ mail.from_address }} added a mail to {{ item.type }} {{ token }} ({{ item.title }}).\n"
                 "{% endif %}"),
        "html": ("{% if actor %}<p>{{ actor }} changed {{ item.type }} <b>{{ token }}</b> ({{ item.title }}):</p><ul>"
                 "{% for c in changes %}<li>{{ c.field }}: {{ c.before if c.before is not none else '-' }} &rarr; "
                 "{{ c.after if c.after is not none else '-' }}</li>{% endfor %}</ul>"
                 "{% else %}<p>{{ mail.from_address }} added a mail to {{ item.type }} <b>{{ token }}</b> "
                 "({{ item.title }}).</p>{% endif %}"),
    },
    "status-changed": {
        "subject": "{{ token }} Status {{ status.to }}: {{ item.title }}",
        "text": ("{{ item.type }} {{ token }} ({{ item.title }}) is now {{ status.to }}"
                 "{% if status.reopened %} (reopened by a new mail){% endif %}{% if actor %} ({{ actor }}){% endif %}, "
                 "was {{ status.from }}.\n"),
        "html": ("<p>{{ item.type }} <b>{{ token }}</b> ({{ item.title }}) is now <b>{{ status.to }}</b>"
                 "{% if status.reopened %} (reopened by a new mail){% endif %}{% if actor %} ({{ actor }}){% endif %}, "
                 "was {{ status.from }}.</p>"),
    },
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    errors: tuple[str, ...] = ()


class Templates:
    def __init__(self) -> None:
        self._text_env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
        self._html_env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=True)
        # Compiling is most of the cost of a render: keep each source's compiled template (the
        # defaults and each account's overrides; an override edited in the database is a new source).
        self._compiled: dict[tuple[bool, str], Template] = {}

    def _template(self, env: ImmutableSandboxedEnvironment, source: str) -> Template:
        key = (env is self._html_env, source)
        template = self._compiled.get(key)
        if template is None:
            if len(self._compiled) >= 512:
                self._compiled.clear()
            template = self._compiled[key] = env.from_string(source)
        return template

    def render(self, kind: str, context: dict[str, Any], overrides: dict[str, str] | None = None) -> Rendered:
        """Render ``kind``; a broken admin template falls back to the default and says why."""
        errors: list[str] = []
        parts = {}
        for part in ("subject", "text", "html"):
            env = self._html_env if part == "html" else self._text_env
            source = (overrides or {}).get(part) or DEFAULTS[kind][part]
            try:
                parts[part] = self._template(env, source).render(context)
            except TemplateError as exc:
                errors.append(f"{kind}.{part}: {type(exc).__name__}: {exc}")
                log.warning("template error; the default is used", template=f"{kind}.{part}", error=str(exc))
                parts[part] = self._template(env, DEFAULTS[kind][part]).render(context)
        return Rendered(" ".join(parts["subject"].split()), parts["text"], parts["html"], tuple(errors))
