"""The wire protocol between the backend and the page, as pydantic v2 models.

Every message is a JSON object with a ``type`` field; the server and the client each
have one discriminated union of message types (``ServerMessage``, ``ClientMessage``).
The page checks ``protocol_version`` in ``hello`` and refuses to draw a protocol it
does not speak, so any incompatible change to a model below must bump
``PROTOCOL_VERSION``.

Flow of one connection (version 1):

1. server -> ``hello`` (protocol version, server version, limits)
2. server -> ``snapshot`` (full state of every zone)
3. client -> a command with an ``id``; the server answers every command with ``ack`` or
   ``error`` carrying the same ``id`` (so a client never waits forever).  Malformed
   messages get an ``error`` with ``id: null``.

Free lists can be very long (a 4 GiB zone has hundreds of order-10 blocks and can have
thousands of order-0 ones), so a ``FreeListSlice`` carries the total ``count`` and only
the first and last ``Limits.list_ends`` pfns: the page never draws an unreadable smear.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

PROTOCOL_VERSION: Final = 1


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Limits(_Message):
    """What the server promises about message sizes."""

    list_ends: int = Field(ge=1, description="Most pfns sent from each end of a free list")


class Hello(_Message):
    type: Literal["hello"] = "hello"
    protocol_version: int = PROTOCOL_VERSION
    server: str = Field(description="Server software and version, e.g. 'buddyscope 0.1.0'")
    limits: Limits


class FreeListSlice(_Message):
    """One free list (one order, one migratetype), head -> tail.

    ``head`` holds the first pfns from the head end, ``tail`` the last pfns (still in
    head -> tail order).  When the whole list fits, ``head`` is the whole list and
    ``tail`` is empty.  ``count - len(head) - len(tail)`` blocks in the middle are not
    sent.
    """

    count: int = Field(ge=0)
    head: list[int]
    tail: list[int]

    @model_validator(mode="after")
    def _fits(self) -> FreeListSlice:
        if len(self.head) + len(self.tail) > self.count:
            raise ValueError("head and tail hold more pfns than count")
        if self.tail and len(self.head) + len(self.tail) == self.count:
            raise ValueError("a complete list is sent in head alone")
        return self


class ZoneState(_Message):
    name: str
    start_pfn: int = Field(ge=0)
    spanned_pages: int = Field(ge=0)
    nr_free: list[int] = Field(description="Blocks on the free lists of each order, all types")
    free_pages: int = Field(ge=0, description="Pages on the free lists: sum of nr_free << order")
    free_lists: dict[str, list[FreeListSlice]] = Field(
        description="migratetype -> one slice per order, index = order"
    )


class Snapshot(_Message):
    type: Literal["snapshot"] = "snapshot"
    seq: int = Field(ge=1, description="Message sequence number on this connection")
    scenario: str
    step: int = Field(ge=0, description="Workload operations applied so far")
    max_order: int = Field(ge=1)
    pageblock_order: int = Field(ge=0)
    migratetypes: list[str]
    zones: list[ZoneState]


class Ack(_Message):
    type: Literal["ack"] = "ack"
    id: int


class Error(_Message):
    type: Literal["error"] = "error"
    id: int | None = Field(description="id of the command this answers, null if unknown")
    code: Literal["bad_message", "unsupported", "internal"]
    message: str


ServerMessage = Annotated[Hello | Snapshot | Ack | Error, Field(discriminator="type")]


class Ping(_Message):
    type: Literal["ping"] = "ping"
    id: int = Field(ge=0)


class GetSnapshot(_Message):
    """Ask for a fresh ``snapshot``; it is sent before the ``ack``."""

    type: Literal["get_snapshot"] = "get_snapshot"
    id: int = Field(ge=0)


ClientMessage = Annotated[Ping | GetSnapshot, Field(discriminator="type")]

server_message_adapter: TypeAdapter[ServerMessage] = TypeAdapter(ServerMessage)
client_message_adapter: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)
