"""The automatic mail's templates: the stock ones, what a template sees, rendering in the sandbox,
and the check a template passes before it is stored."""

from shared.templates.checks import check_template, check_templates
from shared.templates.context import SAMPLE_EVENT, item_link, sample_context, template_context
from shared.templates.defaults import DEFAULTS, KINDS, PARTS
from shared.templates.engine import MailTemplates, Rendered, TemplateProblem, environment
from shared.templates.htmltext import text_from_html

__all__ = ["DEFAULTS", "KINDS", "PARTS", "SAMPLE_EVENT", "MailTemplates", "Rendered", "TemplateProblem",
           "check_template", "check_templates", "environment", "item_link", "sample_context", "template_context",
           "text_from_html"]
