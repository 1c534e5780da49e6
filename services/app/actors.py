"""Who is doing something: a signed-in person or a script's token, with its role."""

from __future__ import annotations

from dataclasses import dataclass

from services.app.errors import Forbidden

ROLES = ("admin", "agent")


@dataclass(frozen=True)
class Actor:
    user_id: int
    email: str
    name: str
    role: str  # admin | agent

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def require_admin(self, what: str) -> None:
        if not self.is_admin:
            raise Forbidden(f"{what} needs the admin role; {self.email} is an {self.role}")


# The CLI runs with the database's own credentials: whoever runs it may do everything.
OPERATOR = Actor(user_id=0, email="operator", name="operator (CLI)", role="admin")
