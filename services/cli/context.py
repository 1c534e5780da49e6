"""What CLI commands share: settings and a database session factory, built on first use."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy.orm import Session, sessionmaker

from shared.settings import CommonSettings


class CliContext:
    @cached_property
    def settings(self) -> CommonSettings:
        return CommonSettings()

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        from shared.db.engine import make_engine, make_sessionmaker

        return make_sessionmaker(make_engine(self.settings.resolved_database_url))

    def broker(self):  # type: ignore[no-untyped-def]
        from shared.service import broker_from

        return broker_from(self.settings)
