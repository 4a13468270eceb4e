"""A uvicorn server that says when it is listening, without polling."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

import uvicorn


class NotifyingServer(uvicorn.Server):
    """``uvicorn.Server`` that sets ``ready`` (and calls ``on_ready``) once it listens.

    ``ready`` is also set when startup fails, so a waiter never hangs: check
    ``started`` afterwards.
    """

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None] | None = None) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
            if self.started and self._on_ready is not None:
                self._on_ready()
        finally:
            self.ready.set()
