"""``email.policy.default`` with header objects made once: the same policy in every behaviour, less
work per header.

The stdlib's ``HeaderRegistry`` builds a new class (``type(...)``) for every header it parses, then
runs the header value parser on the value. Both are most of what reading a part's type costs, and
both repeat: a mail's parts have a handful of header values (``text/plain; charset="utf-8"``,
``base64``) that every other mail has too. So each header class is made once per header name, and
the header object of a short value is kept and handed out again for the same name and value.
Sharing one is safe: a header object is an immutable ``str`` with read-only attributes.
"""

from __future__ import annotations

import functools
from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry

MAX_CACHED_VALUE = 1000  # longer values (long address lists) are parsed every time: the cache stays small
CACHED_HEADERS = 1024


class Registry(HeaderRegistry):
    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._classes: dict[str, type] = {}
        self._cached = functools.lru_cache(maxsize=CACHED_HEADERS)(self._make)

    def map_to_type(self, name: str, cls: type) -> None:
        super().map_to_type(name, cls)
        self._classes.clear()
        self._cached.cache_clear()

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = super().__getitem__(name)
        return cls

    def __call__(self, name: str, value: str) -> BaseHeader:
        if len(value) > MAX_CACHED_VALUE:
            return self._make(name, value)
        return self._cached(name, value)

    def _make(self, name: str, value: str) -> BaseHeader:
        return self[name](name, value)


POLICY = policy.default.clone(header_factory=Registry())
