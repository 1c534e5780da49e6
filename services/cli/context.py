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

    @cached_property
    def secret_box(self):  # type: ignore[no-untyped-def]
        from shared.secrets import SecretBox

        return SecretBox(self.settings.resolved_secret_keys)

    def broker(self):  # type: ignore[no-untyped-def]
        from shared.service import broker_from

        return broker_from(self.settings)
