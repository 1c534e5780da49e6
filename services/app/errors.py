"""What an operation refuses, with a message a person can act on. Entry points map these to an
exit code (CLI) or a status code (API)."""

from __future__ import annotations


class AppError(Exception):
    status = 400

    def __init__(self, message: str, *, field: str | None = None,
                 field_problems: tuple[tuple[str | None, str], ...] = ()) -> None:
        super().__init__(message)
        self.message, self.field = message, field
        # Each problem with the field it is about (None: the whole), for a form to show beside its field.
        self.field_problems = field_problems or ((field, message),)


class Invalid(AppError):
    status = 422


class NotFound(AppError):
    status = 404


class Forbidden(AppError):
    status = 403


class Conflict(AppError):
    status = 409
