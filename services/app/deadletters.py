"""Dead letters of every consumer: list, show, replay, discard, for the CLI and the API alike.
Reading never loses a letter (shared/broker/admin.py); a replay goes back to the failed consumer's
own queue, confirmed, before the letter leaves the dead-letter queue."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from services.app.actors import Actor
from services.app.errors import AppError, Invalid, NotFound
from shared.broker.topology import CONSUMERS, Topology


class ReplayRefused(AppError):
    status = 502


@dataclass(frozen=True)
class DeadLetters:
    amqp_url: str
    topology: Topology

    def consumers(self, stage: str | None) -> list[str]:
        if stage is None:
            return list(CONSUMERS)
        if stage in CONSUMERS:
            return [stage]
        try:
            return [self.topology.consumer_of_queue(stage)]
        except KeyError:
            raise Invalid(f"{stage!r} is neither a stage ({', '.join(CONSUMERS)}) nor one of their queues",
                          field="stage") from None

    @contextmanager
    def _inbox(self) -> Iterator[Any]:
        from shared.broker.admin import dead_letter_inbox

        with dead_letter_inbox(self.amqp_url, self.topology) as inbox:
            yield inbox

    @staticmethod
    def _find(inbox: Any, consumers: list[str], ident: str) -> Any:
        from shared.broker.deadletters import NoSuchLetter, find

        try:
            return find([x for c in consumers for x in inbox.read(c)], ident)
        except NoSuchLetter as exc:
            raise NotFound(str(exc)) from None

    def letters(self, actor: Actor, stage: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        actor.require_admin("the dead letters")
        with self._inbox() as inbox:
            return [x.summary() for c in self.consumers(stage) for x in inbox.read(c, limit)]

    def show(self, actor: Actor, ident: str, stage: str | None = None) -> tuple[dict[str, Any], Any]:
        """The letter's summary with its headers, and the letter."""
        actor.require_admin("the dead letters")
        with self._inbox() as inbox:
            letter = self._find(inbox, self.consumers(stage), ident)
        info = letter.summary()
        info["headers"] = {k: v if isinstance(v, (str, int, float, bool)) or v is None else repr(v)
                           for k, v in letter.headers.items()}
        return info, letter

    def preview(self, actor: Actor, ident: str, stage: str | None, would_happen: Any) -> dict[str, Any]:
        """What a replay would do to the mail the letter carries, with the current rules, as
        ``would_happen(fetched)`` (``services.app.preview``) answers; nothing changes."""
        from services.app.preview import fetched_of_letter

        info, letter = self.show(actor, ident, stage)
        fetched = fetched_of_letter(info["type"], letter.payload)
        if fetched is None:
            return {"id": info["id"], "change": None,
                    "summary": f"not a mail: a replay sends the {info['type'] or 'undecodable'} letter back as it is"}
        return {"id": info["id"], **would_happen(fetched)}

    def replay(self, actor: Actor, ident: str | None, stage: str | None = None) -> list[tuple[str, str]]:
        """Replay ``ident`` (None: every letter of ``stage``); (letter id, queue) of each replayed."""
        from shared.broker.admin import ReplayFailed

        actor.require_admin("replaying dead letters")
        done = []
        with self._inbox() as inbox:
            consumers = self.consumers(stage)
            letters = ([x for c in consumers for x in inbox.read(c)] if ident is None
                       else [self._find(inbox, consumers, ident)])
            for letter in letters:
                try:
                    done.append((letter.id, inbox.replay(letter)))
                except ReplayFailed as exc:
                    raise ReplayRefused(f"{letter.id}: {exc}; it stays in {letter.dlq}") from None
        return done

    def discard(self, actor: Actor, ident: str, stage: str | None = None) -> str:
        actor.require_admin("discarding dead letters")
        with self._inbox() as inbox:
            letter = self._find(inbox, self.consumers(stage), ident)
            inbox.discard(letter)
        return str(letter.id)
