"""The live host view: this machine's free lists, read while someone watches.

``GET /api/live`` is one reading of the counts (quick: the load dialog's example uses
it); the websocket ``/ws/live`` sends a reading when it
opens and then one every ``Settings.live_interval_s`` (1 s) while it stays open.  One
polling task serves every watcher (``LiveHub``): it runs only while somebody watches,
and a slow watcher gets the newest reading, never a backlog.

Readings come from ``allocator_model.sources.live.read_live(root)``: ``/proc/buddyinfo``,
``/proc/pagetypeinfo`` (root only), ``/proc/zoneinfo``, the page reporting module
parameters and ``/proc/kpageflags`` (root only) frame by frame.  Anything missing
becomes a message, never an error, so the view works on machines without these files.

Readings are made in one worker process (spawned on the first read, stopped with the
server): deriving 6.5 M frames is a second of long C calls that hold the GIL, and in a
thread of this process they held every session's websocket up to a second.

The frame map (one kind byte per frame, 6.5 M frames on a 25 GiB machine) goes only to
websocket watchers: the whole map in a watcher's first reading, then only the chunks
that changed since the reading before (``FrameMap``), each encoded once however many
watchers there are.  ``root`` is ``Settings.live_root`` (``buddyscope serve
--proc-root``), which tests point at a fake tree.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import multiprocessing
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, HTTPException, Request, WebSocket, WebSocketDisconnect

from allocator_model.sources.kpageflags import DIFF_CHUNK, FrameReading, changed_chunks
from allocator_model.sources.live import LiveSnapshot, read_live
from allocator_model.sources.machineread import read_seed_text

from .protocol import CLOSE_NOT_FOUND, Live
from .snapshot import unusable_index


class FrameMap:
    """One reading's frame kinds, numbered, with the chunks that changed since the
    reading before it; ``part()`` encodes what a watcher needs once per reading."""

    def __init__(self, gen: int, kinds: bytes, changed: list[int]) -> None:
        self.gen = gen
        self.kinds = kinds
        self.changed = changed
        self._parts: dict[bool, dict[str, Any]] = {}

    def part(self, full: bool) -> dict[str, Any]:
        if full not in self._parts:
            chunks = (
                list(range((len(self.kinds) + DIFF_CHUNK - 1) // DIFF_CHUNK))
                if full
                else self.changed
            )
            data = (
                self.kinds
                if full
                else b"".join(self.kinds[i * DIFF_CHUNK : (i + 1) * DIFF_CHUNK] for i in chunks)
            )
            self._parts[full] = {
                "frames": len(self.kinds),
                "chunk": DIFF_CHUNK,
                "full": full,
                "chunks": chunks,
                "data": base64.b64encode(zlib.compress(data, 1)).decode("ascii"),
            }
        return self._parts[full]


def live_reading(snap: LiveSnapshot, previous: FrameMap | None = None) -> dict[str, Any]:
    """One reading as the ``live`` message's fields (without ``seq``); with ``previous``
    (the reading before, for the hub) it carries a ``FrameMap`` under ``_map``."""
    frame_map = None
    if isinstance(snap.frames, FrameReading) and previous is not None:
        before = previous.kinds
        frame_map = FrameMap(
            previous.gen + 1, snap.frames.kinds, changed_chunks(before, snap.frames.kinds)
        )
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
        "frames": None if snap.frames is None else snap.frames.summary(),
        "messages": list(snap.messages),
        "_map": frame_map,
    }


def live_message(reading: dict[str, Any], seq: int, frame_map: dict[str, Any] | None = None) -> str:
    fields = {k: v for k, v in reading.items() if k != "type" and not k.startswith("_")}
    if frame_map is not None and fields["frames"] is not None:
        fields["frames"] = {**fields["frames"], "map": frame_map}
    return json.dumps({"type": "live", "seq": seq, **fields})


class LiveHub:
    """Reads the host once per interval while at least one watcher is subscribed."""

    def __init__(self, root: str, interval: float, frames: bool = True) -> None:
        self.root = root
        self.interval = interval
        self.frames = frames  # False: no /proc/kpageflags (the counts only)
        self.watchers: set[asyncio.Queue[dict[str, Any]]] = set()
        self.task: asyncio.Task[None] | None = None
        self.reads = 0
        self.frame_map = FrameMap(0, b"", [])  # the last reading's, for the next diff
        self.pool: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self.pool is None:
            self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        return self.pool

    async def seed(self) -> str:
        """This machine as a seed document (``read_seed_text``), read in the worker."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool(), read_seed_text, self.root)

    async def read(self, previous: FrameMap | None = None, frames: bool = True) -> dict[str, Any]:
        """One reading, made in a worker process: deriving 6.5 M frames runs long C calls
        that hold the GIL, which in a thread would stall every session's websocket."""
        self.reads += 1
        loop = asyncio.get_running_loop()
        snap = await loop.run_in_executor(
            self._pool(), read_live, self.root, self.frames and frames, True
        )
        return live_reading(snap, previous)

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
            reading = await self.read(self.frame_map)
            if reading["_map"] is not None:
                self.frame_map = reading["_map"]
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
        pool, self.pool = self.pool, None
        if pool is not None:  # waits for a read under way: no worker outlives the server
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)


router = APIRouter()


async def read_machine(request: Request) -> str:
    """``POST /api/sessions/from-machine``: the seed document of this machine now;
    404 when the live view is off, ``SeedError`` when the frames cannot be read."""
    hub = _hub(request)
    if hub is None:
        raise HTTPException(404, "the live host view is turned off on this server")
    if not hub.frames:
        raise HTTPException(
            409, "this server does not read /proc/kpageflags (its live view shows counts only)"
        )
    return await hub.seed()


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
    reading = await hub.read(frames=False)  # the counts, quickly: the frames are for watchers
    return Live.model_validate_json(live_message(reading, 1))


@router.websocket("/ws/live")
async def live_ws(websocket: WebSocket) -> None:
    # Host and Origin are checked by backend.guard before any route.
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
    last_gen = -1  # the frame map this watcher holds: a diff follows only that one

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
            reading = getter.result()
            source: FrameMap | None = reading["_map"]
            part = None
            if source is not None:
                part = await asyncio.to_thread(source.part, last_gen != source.gen - 1)
                last_gen = source.gen
            await websocket.send_text(live_message(reading, seq, part))
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        hub.unsubscribe(queue)
        closed.cancel()
