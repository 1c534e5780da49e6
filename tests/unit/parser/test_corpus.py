"""Every case of the shared corpus, against its source's expectations (see tests/support/corpus.py)."""

from __future__ import annotations

import pytest

from tests.support.corpus import KNOWN, Case, cases

ALL = cases()


def _param(case: Case):  # type: ignore[no-untyped-def]
    key = f"{case.source}:{case.id}"
    marks = [pytest.mark.xfail(strict=True, reason=KNOWN[key])] if key in KNOWN else []
    return pytest.param(case, id=key, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in ALL])
def test_the_parse_matches_what_the_corpus_expects(case: Case) -> None:
    """The published fields match the corpus source's expected values."""
    assert case.check() == []


def test_every_known_difference_names_a_real_case() -> None:
    """An explained difference never outlives its case."""
    keys = {f"{c.source}:{c.id}" for c in ALL}
    assert set(KNOWN) <= keys
