"""The runner's log lines carry the ids of the message they are about, and only while it is handled."""

from __future__ import annotations

import structlog

from shared.runner import envelope_context, envelope_fields
from tests.support.pipeline import fetched


def test_an_envelope_context_binds_the_message_ids_and_restores_the_outer_ones_on_leaving() -> None:
    outer, inner = fetched("outer"), fetched("inner")
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(stage="parser")
    try:
        with envelope_context(outer):
            with envelope_context(inner):
                assert structlog.contextvars.get_contextvars() == {"stage": "parser", **envelope_fields(inner)}
            assert structlog.contextvars.get_contextvars() == {"stage": "parser", **envelope_fields(outer)}
        assert structlog.contextvars.get_contextvars() == {"stage": "parser"}
    finally:
        structlog.contextvars.clear_contextvars()


def test_an_envelope_context_is_left_cleanly_when_the_work_inside_raises() -> None:
    structlog.contextvars.clear_contextvars()
    try:
        with envelope_context(fetched("boom")):
            raise ValueError("the handler failed")
    except ValueError:
        pass
    assert structlog.contextvars.get_contextvars() == {}
