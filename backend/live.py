"""The live host view: this machine's free lists, read while someone watches.

``GET /api/live`` is one reading; the websocket ``/ws/live`` sends a reading when it
opens and then one every ``Settings.live_interval_s`` (1 s) while it stays open.  One
polling task serves every watcher (``LiveHub``): it runs only while somebody watches,
and a slow watcher gets the newest reading, never a backlog.

Readings come from ``allocator_model.live.read_live(root)``: ``/proc/buddyinfo``,
``/proc/pagetypeinfo`` (root only), ``/proc/zoneinfo`` and the page reporting module
parameters.  Anything missing becomes a message, never an error, so the view works on
machines without these files.  ``root`` is ``Settings.live_root`` (``buddyscope serve
--proc-root``), which tests point at a fake tree.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, HTTPException, Request, WebSocket, WebSocketDisconnect

from allocator_model.live import read_live

from .protocol import Live
from .snapshot import unusable_index


def live_reading(root: str) -> dict[str, Any]:
    """One reading as the ``live`` message's fields (without ``seq``)."""
    snap = read_live(root)
    return {
        "type": "live",
        "time": time.time(),
        "buddyinfo": [
            {
                "node": r["node"],
                "zone": r["zone"],
                "counts": list(r["counts"]),
                "unusable_index": unusable_index(r["counts"]),
            }
            for r in snap.buddyinfo
        ],
        "pagetypeinfo": snap.pagetypeinfo,
        "zoneinfo": [asdict(z) for z in snap.zoneinfo],
        "reporting": dict(snap.reporting),
        "reporting_extra": dict(snap.reporting_extra),
        "messages": list(snap.messages),
    }


def live_message(reading: dict[str, Any], seq: int) -> str:
    return json.dumps(
        {"type": "live", "seq": seq, **{k: v for k, v in reading.items() if k != "type"}}
    )


class LiveHub:
    """Reads the host once per interval while at least one watcher is subscribed."""

    def __init__(self, root: str, interval: float) -> None:
        self.root = root
        self.interval = interval
        self.watchers: set[asyncio.Queue[dict[str, Any]]] = set()
        self.task: asyncio.Task[None] | None = None
        self.reads = 0

    async def read(self) -> dict[str, Any]:
        self.reads += 1
        return await asyncio.to_thread(live_reading, self.root)

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1)
        self.watchers.add(queue)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._poll(), name="live host view")
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self.watchers.discard(queue)
        if not self.watchers and self.task is not None:
            self.task.cancel()
            self.task = None

    async def _poll(self) -> None:
        while self.watchers:
            reading = await self.read()
            for queue in list(self.watchers):
                if queue.full():  # a slow watcher: it gets the newest reading only
                    queue.get_nowait()
                queue.put_nowait(reading)
            await asyncio.sleep(self.interval)  # a polling display: the kernel has no event

    async def close(self) -> None:
        task, self.task = self.task, None
        self.watchers.clear()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


router = APIRouter()


def _hub(conn: Request | WebSocket) -> LiveHub | None:
    hub: LiveHub | None = conn.app.state.buddyscope.live
    return hub


@router.get(
    "/api/live",
    summary="One reading of this machine's free lists, watermarks and page reporting",
    tags=["live"],
    responses={404: {"description": "The live host view is turned off on this server"}},
)
async def live_once(request: Request) -> Live:
    hub = _hub(request)
    if hub is None:
        raise HTTPException(404, "the live host view is turned off on this server")
    reading = await hub.read()
    return Live.model_validate_json(live_message(reading, 1))


@router.websocket("/ws/live")
async def live_ws(websocket: WebSocket) -> None:
    from .app import CLOSE_NOT_FOUND, CLOSE_POLICY, origin_allowed

    state = websocket.app.state.buddyscope
    if not origin_allowed(websocket, state.allowed_origins):
        await websocket.close(CLOSE_POLICY)
        return
    await websocket.accept()
    hub = _hub(websocket)
    if hub is None:
        await websocket.send_text(
            json.dumps(
                {
                    "type": "error",
                    "id": None,
                    "code": "not_found",
                    "message": "the live host view is turned off on this server",
                }
            )
        )
        await websocket.close(CLOSE_NOT_FOUND)
        return
    queue = hub.subscribe()
    seq = 0

    async def drain_input() -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            while (await websocket.receive())["type"] != "websocket.disconnect":
                pass  # this socket only sends; whatever comes in is ignored

    closed = asyncio.create_task(drain_input())
    try:
        while True:
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({getter, closed}, return_when=asyncio.FIRST_COMPLETED)
            if closed in done:
                getter.cancel()
                break
            seq += 1
            await websocket.send_text(live_message(getter.result(), seq))
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        hub.unsubscribe(queue)
        closed.cancel()
