"""Templates checked when they are stored (``postroom accounts apply`` / ``edit``, the API, the
console), in the sandbox the notifier renders them in: each must compile, name only the values a
template sees (and their fields), use known filters and tests, and render against the sample mail.
Each problem names the template, its line and the reason."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jinja2 import TemplateError, nodes

from shared.templates.context import sample_context
from shared.templates.defaults import KINDS, PARTS
from shared.templates.engine import TemplateProblem, environment, problem_of


def check_template(source: str, part: str, name: str = "template",
                   context: dict[str, Any] | None = None) -> list[TemplateProblem]:
    """The problems of one template ``source`` for ``part`` (subject, text or html); [] when it is fit."""
    env = environment(part == "html")
    context = sample_context() if context is None else context
    try:
        tree = env.parse(source)
    except TemplateError as exc:
        return [problem_of(exc, name)]
    problems = list(_unknown_names(tree, context, name, env.filters, env.tests))
    if problems:
        return problems
    try:
        env.from_string(tree).render(context)
    except Exception as exc:  # what the template's own expressions raise (1/0, a filter's TypeError)
        return [problem_of(exc, name)]
    return []


def check_templates(templates: Any) -> list[TemplateProblem]:
    """The problems of an account's ``templates:`` block (kind -> part -> source); [] when every
    template in it is fit. Unknown kinds and parts are problems too: a typo would never render."""
    if templates is None:
        return []
    if not isinstance(templates, dict):
        return [TemplateProblem("templates", None,
                                f"expected kinds ({', '.join(KINDS)}), got a {type(templates).__name__}")]
    problems: list[TemplateProblem] = []
    context = sample_context()
    for kind, parts in templates.items():
        if kind not in KINDS:
            problems.append(TemplateProblem(str(kind), None, f"unknown kind (known: {', '.join(KINDS)})"))
            continue
        if not isinstance(parts, dict):
            problems.append(TemplateProblem(kind, None, f"expected parts ({', '.join(PARTS)})"))
            continue
        for part, source in parts.items():
            name = f"{kind}.{part}"
            if part not in PARTS:
                problems.append(TemplateProblem(name, None, f"unknown part (known: {', '.join(PARTS)})"))
            elif source is not None and not isinstance(source, str):
                problems.append(TemplateProblem(name, None, "a template is text"))
            elif source:
                problems += check_template(source, part, name, context)
    return problems


def _unknown_names(tree: nodes.Template, context: dict[str, Any], name: str, filters: Any,
                   tests: Any) -> Iterator[TemplateProblem]:
    """Names and fields the template reads that no mail gives it, on every branch (a render of the
    sample goes down one), and filters and tests Jinja2 has not."""
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    for node in tree.find_all((nodes.Name, nodes.Getattr, nodes.Getitem, nodes.Filter, nodes.Test)):
        if isinstance(node, nodes.Name) and node.ctx == "load" and node.name not in context \
                and node.name not in assigned:
            yield TemplateProblem(name, node.lineno, f"unknown value {node.name!r} (known: {', '.join(context)})")
        elif isinstance(node, nodes.Getattr | nodes.Getitem):
            field = node.attr if isinstance(node, nodes.Getattr) else _constant(node.arg)
            owner = node.node
            if field is None or not isinstance(owner, nodes.Name) or owner.name in assigned:
                continue
            value = context.get(owner.name)
            if isinstance(value, dict) and field not in value:
                yield TemplateProblem(name, node.lineno, f"{owner.name} has no {field!r} "
                                                         f"(it has: {', '.join(value)})")
        elif isinstance(node, nodes.Filter) and node.name not in filters:
            yield TemplateProblem(name, node.lineno, f"no filter named {node.name!r}")
        elif isinstance(node, nodes.Test) and node.name not in tests:
            yield TemplateProblem(name, node.lineno, f"no test named {node.name!r}")


def _constant(node: nodes.Node) -> str | None:
    return node.value if isinstance(node, nodes.Const) and isinstance(node.value, str) else None
