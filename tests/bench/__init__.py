"""``make bench`` and ``make chaos``: the whole pipeline on one machine under load and under faults.

Not collected by pytest (no ``test_*`` files here); run as ``python -m tests.bench.run`` and
``python -m tests.bench.chaos``. The short chaos run in ``make test`` is ``tests/e2e/test_chaos_short.py``.
"""
