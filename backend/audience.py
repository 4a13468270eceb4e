"""The audience of a session: its connections, what is queued for each, and how it is sent.

Every state change is serialised once into a ``Frame`` and offered to the queue of each
``Client`` following the session.  A queue is bounded in bytes (``Settings.queue_bytes``),
not in messages: when a message would take it over, its state messages are dropped and
the client gets one fresh snapshot (``reason: "resync"``) when it reads again, so a
stalled client costs at most one queue and never delays anybody else.  Answers to its
commands (ack/error) are never dropped; the receive loop stops reading commands while
``Settings.queue_messages`` of them wait.

``send_loop`` drains one client's queue onto its websocket.  A frame is encoded to UTF-8
once, and numbered per connection by splicing in ``seq``; followers in step (the same
seq) share the same bytes, written to each transport by reference where the server allows
(``wslink``).  A client that takes no message for ``Settings.send_timeout_s`` does not
read: it is sent a close frame (``CLOSE_NOT_READING``) behind what it has not read, and
its connection is cut ``Settings.stall_grace_s`` later, which frees its buffers.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Final, Protocol

from fastapi import WebSocket
from pydantic import BaseModel

from . import protocol as p
from .snapshot import Tracker
from .timeline import View
from .wslink import LINK, Link, text_frame

log = logging.getLogger("buddyscope.audience")

#: Close code of a client dropped for not reading (4000-4999: the application's own).
CLOSE_NOT_READING: Final = 4408


class Pacing(Protocol):
    """The settings ``send_loop`` follows (``session.Settings``)."""

    @property
    def send_timeout_s(self) -> float: ...
    @property
    def stall_grace_s(self) -> float: ...
    @property
    def follower_flush_s(self) -> float: ...


class Frame:
    """A server message serialised once; ``render(seq)`` / ``wire(seq)`` give one
    connection's text / websocket frame.

    The message is dumped with ``seq`` 0; since ``type`` and ``seq`` are its first two
    fields, the text starts with ``{"type":"...","seq":0`` and the number is spliced in.
    The rest is encoded to UTF-8 once (``encodes`` counts it); each seq's text and frame
    are made once, whoever is sent them.
    """

    __slots__ = ("_texts", "_wires", "kind", "prefix", "rest", "size", "version")

    #: How many messages were encoded (tests: once per broadcast, however many follow).
    encodes = 0

    def __init__(self, message: BaseModel, version: int = 0) -> None:
        text = message.model_dump_json(warnings=False)
        kind = getattr(message, "type", "")
        head = f'{{"type":"{kind}","seq":0'
        if not text.startswith(head):
            raise ValueError(f"cannot number a {kind!r} message: {text[:60]!r}")
        self.kind = kind
        self.prefix = head[:-1].encode()
        self.rest = text[len(head) :].encode()
        # Its size in bytes, with room for a seq (what it takes of a queue): an
        # attribute, read twice per follower and step.
        self.size = len(self.prefix) + len(self.rest) + 8
        Frame.encodes += 1
        self.version = version
        self._texts: dict[int, str] = {}
        self._wires: dict[int, bytes] = {}

    def _payload(self, seq: int) -> bytes:
        return b"%s%d%s" % (self.prefix, seq, self.rest)

    def render(self, seq: int) -> str:
        """The text numbered ``seq`` (the same string for every connection at ``seq``)."""
        text = self._texts.get(seq)
        if text is None:
            text = self._texts[seq] = self._payload(seq).decode()
        return text

    def wire(self, seq: int) -> bytes:
        """The websocket frame of ``render(seq)`` (the same bytes for every connection)."""
        frame = self._wires.get(seq)
        if frame is None:
            frame = self._wires[seq] = text_frame(self._payload(seq))
        return frame

    def __len__(self) -> int:
        """``size``."""
        return self.size


class Client:
    """One connection's outgoing queue and view; ``send_loop`` drains the queue."""

    def __init__(self, role: str, max_bytes: int = 8 << 20) -> None:
        self.role = role
        self.max_bytes = max_bytes
        self.queued_bytes = 0  # of the state messages (Frame) in the queue
        self.following = True
        self.view: View | None = None  # own view when not following
        self.tracker: Tracker | None = None
        self.queue: deque[Frame | str] = deque()
        self.pending_replies = 0
        self.needs_resync = False
        self.seq = 0
        self.wake = asyncio.Event()
        self.closed = False
        self.stalled = False  # dropped for not reading (Settings.send_timeout_s)
        self.drained = asyncio.Event()
        self.resyncs = 0
        self.sent_frames = 0

    @property
    def is_controller(self) -> bool:
        return self.role == "controller"

    def offer(self, frame: Frame) -> None:
        """Queue a state message; when it would take the queue over its bytes, drop them
        all and resync."""
        if self.closed:
            return
        if self.needs_resync:
            pass  # the resync snapshot will include this change
        elif self.queued_bytes + frame.size > self.max_bytes:
            self.drop_frames()
            self.needs_resync = True
            self.resyncs += 1
        else:
            self.queue.append(frame)
            self.queued_bytes += frame.size
        self.wake.set()

    def drop_frames(self) -> None:
        """Forget the queued state messages (a snapshot will cover them); keep replies."""
        self.queue = deque(m for m in self.queue if isinstance(m, str))
        self.queued_bytes = 0

    def reply(self, text: str) -> None:
        """Queue an ack/error (never dropped; the receive loop waits while many wait)."""
        if self.closed:
            return
        self.queue.append(text)
        self.pending_replies += 1
        self.wake.set()

    def number(self, frame: Frame) -> tuple[Frame, int]:
        """``frame`` with the next seq of this connection (it is being sent)."""
        self.seq += 1
        self.sent_frames += 1
        return frame, self.seq

    def take(self) -> str | tuple[Frame, int] | None:
        """The next message to send (a reply, or a state message and its seq); None when
        nothing is queued or a resync snapshot must be built first."""
        if self.needs_resync or not self.queue:
            return None
        item = self.queue.popleft()
        if isinstance(item, str):
            self.pending_replies -= 1
            return item
        self.queued_bytes -= item.size
        return self.number(item)

    def ack(self, ident: int | None) -> None:
        self.reply(p.Ack.model_construct(id=ident, seq=self.seq_after_queue()).model_dump_json())

    def error(
        self, ident: int | None, code: str, message: str, problems: list[str] | None = None
    ) -> None:
        err = p.Error(id=ident, code=code, message=message, problems=problems)  # type: ignore[arg-type]
        self.reply(err.model_dump_json(exclude_none=problems is None))

    def seq_after_queue(self) -> int:
        """The seq the last queued state message will have (what an ack refers to)."""
        frames = sum(1 for m in self.queue if not isinstance(m, str))
        return self.seq + frames


async def send_loop(
    websocket: WebSocket,
    client: Client,
    resync: Callable[[Client], Awaitable[Frame]],
    settings: Pacing,
) -> None:
    """Send ``client``'s queue as it fills, until it closes or stops reading.  Whatever is
    queued goes at once (one write where frames are shared); a follower is written to at
    most every ``follower_flush_s``, so a hundred of them cost the controller's play a
    few writes per step, not a hundred."""
    link: Link | None = websocket.scope.get(LINK)
    shared = link is not None and link.shares_frames
    timeout = settings.send_timeout_s
    try:
        while not client.closed:
            await client.wake.wait()
            client.wake.clear()
            while not client.closed:
                items: list[str | tuple[Frame, int]] = []
                while (item := client.take()) is not None:
                    items.append(item)
                if not items and client.needs_resync:
                    items.append(client.number(await resync(client)))
                if not items:
                    break
                try:
                    if shared:
                        assert link is not None
                        frames = [_wire(item) for item in items]
                        if not link.write_now(frames):  # its buffer is full: wait, timed
                            async with asyncio.timeout(timeout):
                                await link.write_frames(frames)
                    else:
                        async with asyncio.timeout(timeout):
                            for item in items:
                                await websocket.send_text(_text(item))
                except TimeoutError:
                    client.stalled = client.closed = True
                    await _drop(websocket, link, timeout, settings.stall_grace_s)
                    return
                client.drained.set()
            if client.following and not client.is_controller:
                await asyncio.sleep(settings.follower_flush_s)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the peer went away mid-send: not an error of ours
        log.debug("a sender stops: %r", exc)
        client.closed = True


def _text(item: str | tuple[Frame, int]) -> str:
    return item if isinstance(item, str) else item[0].render(item[1])


def _wire(item: str | tuple[Frame, int]) -> bytes:
    return text_frame(item.encode()) if isinstance(item, str) else item[0].wire(item[1])


async def _drop(websocket: WebSocket, link: Link | None, timeout: float, grace: float) -> None:
    """A client that took nothing for ``timeout`` seconds: close it with a reason."""
    reason = f"closed: nothing read for {timeout:g} s"
    log.info("a client read nothing for %g s, dropped", timeout)
    if link is not None:
        link.close_then_abort(CLOSE_NOT_READING, reason, grace)
        return
    try:  # no link (another server): the close waits for its buffer like any send
        async with asyncio.timeout(grace):
            await websocket.close(CLOSE_NOT_READING, reason)
    except Exception as exc:  # it is being dropped either way
        log.debug("closing a stalled client: %r", exc)


__all__ = ["CLOSE_NOT_READING", "Client", "Frame", "send_loop"]
