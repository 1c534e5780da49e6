"""Where a mail API sync resumes (a Graph delta link, a Gmail history id), per account and folder."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from shared.db.models import ApiCursor


class ApiCursors:
    def __init__(self, sessions: sessionmaker[Session], account: str) -> None:
        self._sessions, self.account = sessions, account

    def get(self, folder: str) -> str | None:
        with self._sessions() as session:
            row = session.get(ApiCursor, (self.account, folder))
            return row.cursor if row else None

    def put(self, folder: str, cursor: str) -> None:
        with self._sessions.begin() as session:
            row = session.get(ApiCursor, (self.account, folder))
            if row is None:
                session.add(ApiCursor(account=self.account, folder=folder, cursor=cursor))
            else:
                row.cursor = cursor
