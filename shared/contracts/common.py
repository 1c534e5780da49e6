"""Value objects the message contracts share."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class BlobRef(Value):
    """A claim check: bytes kept in the blob store, found again by ``key``."""

    key: str
    size: int
    sha256: str


class Address(Value):
    name: str = ""
    address: str

    def formatted(self) -> str:
        from email.headerregistry import Address as HeaderAddress

        return str(HeaderAddress(display_name=self.name, addr_spec=self.address)) if self.name else self.address
