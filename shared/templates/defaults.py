"""The stock templates of the automatic mail: per kind a subject, a text and an HTML body.

Notifications carry the mail's new text (``mail.reply_text``: no quoted history, no signature),
the change, and a link to the item in the console (``link``, empty when no console URL is set)."""

from __future__ import annotations

_LINK_TEXT = "{% if link %}\n{{ link }}\n{% endif %}"
_LINK_HTML = '{% if link %}<p><a href="{{ link }}">{{ item.type }} {{ token }} in the console</a></p>{% endif %}'
_NEW_TEXT = "{% if mail.reply_text %}\n{{ mail.reply_text }}\n{% endif %}"
_NEW_HTML = ('{% if mail.reply_text %}<blockquote style="white-space: pre-wrap">{{ mail.reply_text }}'
             "</blockquote>{% endif %}")

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
        "text": ("A new {{ item.type }} {{ token }} was created from a mail by {{ mail.from_address }}:\n\n"
                 "{{ item.title }}\n" + _NEW_TEXT + _LINK_TEXT),
        "html": ("<p>A new {{ item.type }} <b>{{ token }}</b> was created from a mail by {{ mail.from_address }}:</p>"
                 "<p>{{ item.title }}</p>" + _NEW_HTML + _LINK_HTML),
    },
    "updated": {
        "subject": "{{ token }} Updated: {{ item.title }}",
        "text": ("{% if actor %}{{ actor }} changed {{ item.type }} {{ token }} ({{ item.title }}):\n"
                 "{% for c in changes %}  {{ c.field }}: {{ c.before if c.before is not none else '-' }} -> "
                 "{{ c.after if c.after is not none else '-' }}\n{% endfor %}"
                 "{% else %}{{ mail.from_address }} added a mail to {{ item.type }} {{ token }} ({{ item.title }}).\n"
                 + _NEW_TEXT + "{% endif %}" + _LINK_TEXT),
        "html": ("{% if actor %}<p>{{ actor }} changed {{ item.type }} <b>{{ token }}</b> ({{ item.title }}):</p><ul>"
                 "{% for c in changes %}<li>{{ c.field }}: {{ c.before if c.before is not none else '-' }} &rarr; "
                 "{{ c.after if c.after is not none else '-' }}</li>{% endfor %}</ul>"
                 "{% else %}<p>{{ mail.from_address }} added a mail to {{ item.type }} <b>{{ token }}</b> "
                 "({{ item.title }}).</p>" + _NEW_HTML + "{% endif %}" + _LINK_HTML),
    },
    "status-changed": {
        "subject": "{{ token }} Status {{ status.to }}: {{ item.title }}",
        "text": ("{{ item.type }} {{ token }} ({{ item.title }}) is now {{ status.to }}"
                 "{% if status.reopened %} (reopened by a new mail){% endif %}{% if actor %} ({{ actor }}){% endif %}, "
                 "was {{ status.from }}.\n"
                 "{% if mail.from_address %}\n{{ mail.from_address }} wrote:\n{% endif %}" + _NEW_TEXT + _LINK_TEXT),
        "html": ("<p>{{ item.type }} <b>{{ token }}</b> ({{ item.title }}) is now <b>{{ status.to }}</b>"
                 "{% if status.reopened %} (reopened by a new mail){% endif %}{% if actor %} ({{ actor }}){% endif %}, "
                 "was {{ status.from }}.</p>"
                 "{% if mail.from_address %}<p>{{ mail.from_address }} wrote:</p>{% endif %}" + _NEW_HTML + _LINK_HTML),
    },
}
KINDS = tuple(DEFAULTS)
PARTS = ("subject", "text", "html")
