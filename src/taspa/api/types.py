"""Types the API's parameters share (thin adapters, STYLE: parse, act, answer)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field

MAX_ID = 2**63 - 1  # the database's 64-bit keys (BigAutoField)

# An object's id in a path, query or body: a larger or non-positive number names nothing and
# is refused as invalid input (422) before it reaches the database, which could not hold it.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# A keyset cursor: "after this id" (0: from the start).
Cursor = Annotated[int, Field(ge=0, le=MAX_ID)]


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


# A moment in time: with its UTC offset (a naive time is ambiguous, 422), kept as UTC inside
# (STYLE 9; PostgreSQL stores offsets only up to ±15:59, Python's reach ±23:59).
Moment = Annotated[AwareDatetime, AfterValidator(_utc)]
