"""The templates' check (what accounts apply/edit, the API and the console call before storing) and
rendering: each problem names the template, its line and the reason; a part left out is derived."""

from __future__ import annotations

import pytest

from shared.templates import KINDS, MailTemplates, check_template, check_templates, sample_context, text_from_html


@pytest.mark.parametrize(("source", "line", "reason"), [
    ("Hello\n{% if mail.subject %}\n{{ token }}", 3, "Unexpected end of template"),
    ("Hello\n{{ mail.subjetc }}", 2, "mail has no 'subjetc'"),
    ("{{ ticket }}", 1, "unknown value 'ticket'"),
    ("a\nb\n{% if status.reopened %}{{ item.title | shout }}{% endif %}", 3, "no filter named 'shout'"),
    ("{{ item.__class__.__mro__[1].__subclasses__() }}", 1, "item has no '__class__'"),
    ("one\n{{ item.number // 0 }}", 2, "ZeroDivisionError"),
])
def test_a_template_that_would_fail_is_refused_with_its_line_and_reason(source: str, line: int, reason: str) -> None:
    [problem] = check_template(source, "text", "created.text")
    assert (problem.template, problem.line) == ("created.text", line)
    assert reason in problem.reason
    assert str(problem).startswith(f"created.text, line {line}: ")


def test_every_stock_template_and_every_value_a_template_sees_pass_the_check() -> None:
    from shared.templates import DEFAULTS

    for kind, parts in DEFAULTS.items():
        for part, source in parts.items():
            assert check_template(source, part, f"{kind}.{part}") == []
    loops = "{% for c in changes %}{{ c.field }} {{ c.before }} {{ c.after }}{% endfor %}{% set n = 1 %}{{ n }}"
    every = " ".join("{{ " + name + " }}" for name in sample_context()) + loops
    assert check_template(every + "{{ mail.reply_text }}{{ item.customer }}{{ status.step }}", "html") == []


def test_an_accounts_templates_block_names_unknown_kinds_and_parts() -> None:
    problems = check_templates({"created": {"text": "ok {{ token }}", "body": "x"}, "closed": {"text": "x"},
                                "updated": {"subject": 3}, "auto-reply": {"html": "<p>{{ nope }}</p>"}})
    assert [(p.template, p.line) for p in problems] == [("created.body", None), ("closed", None),
                                                        ("updated.subject", None), ("auto-reply.html", 1)]
    assert check_templates(None) == [] and check_templates({"created": {"text": ""}}) == []
    [problem] = check_templates(["x"])
    assert problem.template == "templates" and "expected kinds" in problem.reason


def test_text_only_gives_a_plain_text_mail_without_the_stock_html() -> None:
    rendered = MailTemplates().render("created", sample_context(), {"text": "New: {{ item.title }}"})
    assert (rendered.text, rendered.html, rendered.problems) == ("New: Printer jammed", None, ())
    assert rendered.subject == "[#42] New incident: Printer jammed"  # the subject left out: the stock one


def test_html_only_gives_a_text_part_derived_from_the_html() -> None:
    rendered = MailTemplates().render("auto-reply", sample_context(), {
        "html": '<p>Hello {{ mail.from_name }},</p><p>we have it as <b>{{ token }}</b>.</p>'
                '<ul><li>one</li><li><a href="{{ link }}">see it</a></li></ul>'})
    assert rendered.html is not None and "<b>[#42]</b>" in rendered.html
    assert rendered.text == ("Hello Ada Lovelace,\n\nwe have it as [#42].\n- one\n"
                             "- see it (https://postroom.example.com/items/incident/42)\n")


def test_a_body_part_that_fails_when_rendered_gives_the_stock_mail_and_says_why() -> None:
    """The sample has a customer; a mail without one makes ``customer + '!'`` fail."""
    context = sample_context() | {"item": {**sample_context()["item"], "customer": None}}
    rendered = MailTemplates().render("created", context, {"text": "line\n{{ item.customer + '!' }}",
                                                           "html": "<p>{{ token }}</p>"})
    assert rendered.html is not None and "A new incident" in rendered.text and "<blockquote" in rendered.html
    [problem] = rendered.problems
    assert (problem.template, problem.line) == ("created.text", 2)


@pytest.mark.parametrize("kind", KINDS)
def test_notifications_carry_the_new_text_and_a_link_only_when_the_console_url_is_set(kind: str) -> None:
    templates = MailTemplates()
    linked = templates.render(kind, sample_context())
    bare = templates.render(kind, sample_context(console_url=""))
    assert "postroom.example.com/items/incident/42" not in bare.text + (bare.html or "")
    if kind == "auto-reply":
        return
    assert "It jams again, on every second page." in linked.text and "> It was jammed" not in linked.text
    assert "https://postroom.example.com/items/incident/42" in linked.text
    assert 'href="https://postroom.example.com/items/incident/42"' in (linked.html or "")


def test_text_from_html_drops_scripts_and_keeps_words_apart() -> None:
    assert text_from_html("<style>p{}</style>a <b>b</b><br>c&amp;d<script>x()</script>") == "a b\nc&d\n"
