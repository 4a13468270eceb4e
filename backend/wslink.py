"""The connection under an ASGI websocket, where the server is uvicorn's.

ASGI hands the server text, and the server encodes it and frames it for each connection
on its own: one state message to a hundred followers is a hundred copies, each kept in
its transport's buffer for as long as that follower does not read (a 4 GiB session's
snapshot is 2.7 MB of JSON).  With uvicorn's sans-I/O websockets protocol and no
extension negotiated (permessage-deflate compresses per connection), a frame built once
is written to every transport as the same ``bytes`` object, which uvloop keeps by
reference.  ASGI can also only *close* a connection, and a close waits for the buffer to
drain, which a peer that never reads keeps full; ``abort`` drops it at once.

Anything else (another server, the test client, a deflating browser) takes the ASGI path.
"""

from __future__ import annotations

import asyncio
import struct
from typing import Any, Final

from websockets.protocol import State

try:
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
except ImportError:  # pragma: no cover - another server, or an older uvicorn
    WebSocketsSansIOProtocol = None  # type: ignore[assignment,misc]

#: The websocket scope's key for the connection's ``Link`` (None: the server offers none).
LINK: Final = "buddyscope.link"

_TEXT: Final = 0x81  # FIN + opcode 1 (text); a server's frames are not masked


def text_frame(payload: bytes) -> bytes:
    """One unfragmented, unmasked websocket text frame holding ``payload`` (RFC 6455 5.2)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", _TEXT, n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", _TEXT, 126, n)
    else:
        head = struct.pack("!BBQ", _TEXT, 127, n)
    return head + payload


class Link:
    """Direct access to one websocket connection's protocol and transport."""

    def __init__(self, transport: Any, protocol: Any | None) -> None:
        self._transport = transport
        self._protocol = protocol  # uvicorn's sans-I/O protocol, or None

    @classmethod
    def of(cls, send: Any) -> Link | None:
        """The link under ``send`` when it is uvicorn's own method (the middleware that
        asks runs before any that wraps it), else None."""
        owner = getattr(send, "__self__", None)
        transport = getattr(owner, "transport", None)
        # uvloop's transports are not asyncio.WriteTransport subclasses: ask for the methods.
        if not all(callable(getattr(transport, m, None)) for m in ("write", "abort")):
            return None
        if WebSocketsSansIOProtocol is None or not isinstance(owner, WebSocketsSansIOProtocol):
            return cls(transport, None)
        return cls(transport, owner)

    @property
    def shares_frames(self) -> bool:
        """Whether ``write_frames`` may be used: sans-I/O, open, no extension negotiated."""
        proto = self._protocol
        return proto is not None and not proto.conn.extensions

    async def write_frames(self, frames: list[bytes]) -> None:
        """Write frames built by ``text_frame`` (one system call), with the flow control
        of a send: wait while the transport's buffer is over its high-water mark."""
        proto = self._protocol
        assert proto is not None
        while not self.write_now(frames):
            await proto.writable.wait()

    def write_now(self, frames: list[bytes]) -> bool:
        """``write_frames`` if it need not wait (the usual case, which then costs no
        timer and no task switch); False, and nothing written, if it must."""
        proto = self._protocol
        assert proto is not None
        if not proto.writable.is_set():
            return False
        if proto.disconnected or proto.close_sent or proto.conn.state is not State.OPEN:
            raise ConnectionError("the websocket is closed")
        self._transport.writelines(frames)
        return True

    def close_then_abort(self, code: int, reason: str, grace: float) -> None:
        """Queue a close frame behind what the peer has not read, and cut the connection
        ``grace`` seconds later if it is still open (a peer that reads sees the code)."""
        proto = self._protocol
        if proto is not None and not proto.close_sent and proto.conn.state is State.OPEN:
            proto.conn.send_close(code, reason)
            self._transport.write(b"".join(proto.conn.data_to_send()))
            proto.close_sent = True
        loop = asyncio.get_running_loop()
        loop.call_later(grace, self.abort)

    def abort(self) -> None:
        if not self._transport.is_closing() or self._transport.get_write_buffer_size():
            self._transport.abort()
