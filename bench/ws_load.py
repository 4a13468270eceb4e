"""Load test of the websocket server on loopback: `.venv/bin/python bench/ws_load.py`.

Starts `buddyscope serve` (default scenario: the model's default node, 1,048,575 pages)
on a free 127.0.0.1 port, then measures:

1. a full snapshot: JSON bytes, and bytes on the wire with permessage-deflate (every
   browser negotiates it; the script deflates the frame as the server's websockets
   library does);
2. command -> delta: a controller alternates alloc / free at the end of the timeline
   and times each command from send to its delta arriving (p50 / p99);
3. seek: random seeks over the whole timeline, from send to the snapshot arriving;
4. followers: N followers of one session playing at R steps/s for S seconds, plus M
   followers that complete the handshake and never read (``--stalled``, 1 by default).
   Every fast follower must receive every delta in order (seq without gaps, no resync);
   the controller's pace (deltas it received per second of play), ``/healthz`` asked
   every 50 ms throughout by a process of its own (p99), the server's resident memory
   (VmRSS of its process), how many stalled followers the server dropped
   (``send_timeout_s``), the CPU the server used per step (process time: what the pace
   would be with a core to itself), and the machine's load average (the two cores are
   shared) are reported.
   Issue 15's load: ``--followers 100 --stalled 100 --rate 200``.

Everything stays on 127.0.0.1, is bounded in count and time, and stops by itself.
Figures go to stdout (``--json`` for JSON); docs/performance.md records them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_s(pid: int) -> float:
    """CPU time (user + system) the process has used, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> float:
    return os.getloadavg()[0]


def deflated_size(text: str) -> int:
    """Bytes of one message under permessage-deflate (raw deflate, sync flush)."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15, 8)
    return len(c.compress(text.encode()) + c.flush(zlib.Z_SYNC_FLUSH)) - 4


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


async def recv(ws: ClientConnection) -> dict[str, Any]:
    text = await asyncio.wait_for(ws.recv(), timeout=60)
    assert isinstance(text, str)
    msg: dict[str, Any] = json.loads(text)
    return msg


async def call(ws: ClientConnection, ident: int, **fields: Any) -> list[dict[str, Any]]:
    await ws.send(json.dumps({**fields, "id": ident}))
    got = []
    while True:
        msg = await recv(ws)
        got.append(msg)
        if msg["type"] in ("ack", "error") and msg.get("id") == ident:
            return got


class Follower:
    """A follower that reads every message: a websocket client on a plain stream that
    parses only each frame's header and the message's head (type, seq, reason), so
    that a hundred of them leave the server most of the two cores (the ``websockets``
    client took a whole core for them)."""

    def __init__(self, port: int, sid: str) -> None:
        self.port = port
        self.sid = sid
        self.deltas = 0
        self.resyncs = 0
        self.gaps = 0
        self.seq = 0

    async def run(self) -> None:
        """Read until cancelled (or the server closes the connection)."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(upgrade_request(self.port, self.sid))
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head[:80]
        buf = bytearray()
        try:
            while data := await reader.read(1 << 16):
                buf += data
                pos = 0
                while (frame := next_frame(buf, pos)) is not None:
                    opcode, start, pos = frame
                    if opcode == 0x1:
                        self.message(bytes(buf[start:pos]))
                    elif opcode == 0x9:  # ping: a pong echoes it (masked, as from a client)
                        writer.write(client_frame(0xA, bytes(buf[start:pos])))
                    elif opcode == 0x8:
                        return
                del buf[:pos]
        finally:
            writer.close()

    def message(self, text: bytes) -> None:
        head = json.loads(text[: text.find(b',"session"')] + b"}")  # type, seq, reason
        if head["type"] not in ("snapshot", "delta"):
            return
        if head["seq"] != self.seq + 1:
            self.gaps += 1
        self.seq = head["seq"]
        if head["type"] == "delta":
            self.deltas += 1
        elif head.get("reason") == "resync":
            self.resyncs += 1


def upgrade_request(port: int, sid: str) -> bytes:
    return (
        f"GET /ws?session={sid} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


def next_frame(buf: bytearray, pos: int) -> tuple[int, int, int] | None:
    """The server frame at ``pos`` of ``buf`` as (opcode, payload start, end), or None
    while it is incomplete (RFC 6455 5.2; a server's frames are not masked)."""
    if len(buf) - pos < 2:
        return None
    first, length = buf[pos], buf[pos + 1] & 0x7F
    start = pos + 2
    if length == 126:
        start += 2
        length = int.from_bytes(buf[pos + 2 : start])
    elif length == 127:
        start += 8
        length = int.from_bytes(buf[pos + 2 : start])
    if len(buf) < start + length or start > len(buf):
        return None
    assert first & 0x80, "the server fragmented a message"
    return first & 0x0F, start, start + length


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A short masked frame, as a client must send (a pong's payload is ≤ 125 bytes)."""
    mask = os.urandom(4)
    masked = bytes(b ^ mask[k % 4] for k, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked


def health_poller(port: int, go: Any, stop: Any, out: Any) -> None:
    """GET /healthz every 50 ms from ``go`` until ``stop``, each on a new connection,
    and send the times to ``out``.  It runs in a process of its own: in the load
    generator's event loop, busy with a hundred followers, a request waited for that
    loop too, and the figure measured the generator as much as the server."""
    request = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    times: list[float] = []
    go.wait()
    while not stop.is_set():
        t0 = time.perf_counter()
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            sock.sendall(request.encode())
            answer = b""
            while chunk := sock.recv(1 << 16):
                answer += chunk
        times.append(time.perf_counter() - t0)
        if not answer.startswith(b"HTTP/1.1 200"):
            out.send(f"/healthz answered {answer[:80]!r}")
            return
        stop.wait(0.05)
    out.send(times)


def was_dropped(sock: socket.socket) -> bool:
    """Whether the server has closed (or reset) this stalled follower's connection."""
    sock.setblocking(False)
    try:
        while sock.recv(1 << 20):
            pass
    except BlockingIOError:
        return False  # still open, data or not
    except ConnectionResetError:
        return True
    return True


def stalled_follower(port: int, sid: str) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(upgrade_request(port, sid))
    return sock


async def measure(args: argparse.Namespace, port: int, pid: int) -> dict[str, Any]:
    url = f"ws://127.0.0.1:{port}/ws"
    out: dict[str, Any] = {}
    async with connect(url, max_size=None, compression=None) as boss:
        hello = await recv(boss)
        sid = hello["session"]
        t0 = time.perf_counter()
        snap_text = await asyncio.wait_for(boss.recv(), timeout=60)
        assert isinstance(snap_text, str)
        snap = json.loads(snap_text)
        out["snapshot_pages"] = sum(z["spanned_pages"] for z in snap["zones"])
        out["snapshot_json_mb"] = round(len(snap_text) / 2**20, 2)
        out["snapshot_wire_mb_deflate"] = round(deflated_size(snap_text) / 2**20, 3)
        t0 = time.perf_counter()
        await call(boss, 1, type="get_snapshot")
        out["snapshot_request_ms"] = round((time.perf_counter() - t0) * 1000, 1)

        # command -> delta
        lat = []
        live: list[tuple[int, int]] = []
        rng = random.Random(0)
        for k in range(args.commands):
            if live and k % 2:
                pfn, order = live.pop(rng.randrange(len(live)))
                cmd: dict[str, Any] = {"type": "free", "pfn": pfn, "order": order}
            else:
                cmd = {"type": "alloc", "order": rng.choice([0, 0, 1, 2, 3])}
            t0 = time.perf_counter()
            await boss.send(json.dumps({**cmd, "id": 100 + k}))
            delta = await recv(boss)
            lat.append(time.perf_counter() - t0)
            assert delta["type"] == "delta", delta
            ack = await recv(boss)
            assert ack["type"] == "ack", ack
            if cmd["type"] == "alloc":
                ev = next(e for e in delta["events"] if e["kind"] == "alloc")
                live.append((ev["pfn"], ev["order"]))
        out["command_to_delta_ms_p50"] = round(statistics.median(lat) * 1000, 2)
        out["command_to_delta_ms_p99"] = round(pct(lat, 0.99) * 1000, 2)

        # seek anywhere (over the wire, snapshot included)
        length = delta["timeline_length"]
        seeks = []
        for k in range(args.seeks):
            t0 = time.perf_counter()
            await call(boss, 10_000 + k, type="seek", step=rng.randrange(length + 1))
            seeks.append(time.perf_counter() - t0)
        out["timeline_steps"] = length
        out["seek_with_snapshot_ms_p50"] = round(statistics.median(seeks) * 1000, 1)
        out["seek_with_snapshot_ms_p99"] = round(pct(seeks, 0.99) * 1000, 1)

        # followers of a playing session
        if args.rate * args.seconds > length:
            # play stops at the timeline's end, which would cut the measured window short
            raise SystemExit(
                f"ws_load: --rate {args.rate:g} for --seconds {args.seconds:g} plays "
                f"{args.rate * args.seconds:.0f} steps, more than the session's {length}: "
                "ask for fewer seconds"
            )
        await call(boss, 20_000, type="seek", step=0)
        spawn = multiprocessing.get_context("spawn")
        go, stop = spawn.Event(), spawn.Event()
        results, sink = spawn.Pipe(duplex=False)
        poller = spawn.Process(target=health_poller, args=(port, go, stop, sink), daemon=True)
        poller.start()
        sink.close()  # the poller's end: if the poller dies, ``recv`` says so
        followers = [Follower(port, sid) for _ in range(args.followers)]
        tasks = [asyncio.create_task(f.run()) for f in followers]
        while sum(1 for f in followers if f.seq >= 1) < len(followers):
            if ended := [t for t in tasks if t.done()]:
                await ended[0]  # raises what ended it
                raise SystemExit("ws_load: a follower was closed before its snapshot")
            await asyncio.sleep(0.05)
        base = rss_mb(pid)
        stalled = [stalled_follower(port, sid) for _ in range(args.stalled)]
        await asyncio.sleep(0.5)
        peak = rss_mb(pid)
        go.set()
        frames = await call(boss, 20_001, type="play", speed=args.rate)
        expected = sum(1 for m in frames if m["type"] == "delta")
        cpu_start, own_start, load_start = cpu_s(pid), time.process_time(), load_average()
        t_start = time.perf_counter()
        t_end = t_start + args.seconds
        while time.perf_counter() < t_end:
            try:
                msg = await asyncio.wait_for(boss.recv(), timeout=0.25)
                if isinstance(msg, str) and msg.startswith('{"type":"delta"'):
                    expected += 1
            except TimeoutError:
                pass
            peak = max(peak, rss_mb(pid))
        pace = expected / (time.perf_counter() - t_start)
        frames = await call(boss, 20_002, type="pause")
        played_s = time.perf_counter() - t_start
        server_cpu, own_cpu = cpu_s(pid) - cpu_start, time.process_time() - own_start
        expected += sum(1 for m in frames if m["type"] == "delta")
        # The step it paused at: the pace of the session itself (the controller may lag).
        last_step = next(m["step"] for m in reversed(frames) if m["type"] == "delta")
        # every follower has the pause delta once its count equals the controller's
        deadline = time.perf_counter() + 30
        while time.perf_counter() < deadline and any(f.deltas < expected for f in followers):
            await asyncio.sleep(0.05)
            peak = max(peak, rss_mb(pid))
        stop.set()
        health = await asyncio.to_thread(results.recv)
        poller.join()
        if isinstance(health, str):
            raise SystemExit(f"ws_load: {health}")
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        metrics = await asyncio.to_thread(
            lambda: (
                __import__("urllib.request")
                .request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30)
                .read()
                .decode()
            )
        )
        dropped = sum(1 for sock in stalled if was_dropped(sock))
        for sock in stalled:
            sock.close()
    resync_line = next(
        # The only session: /metrics names it by its label, never by its id.
        (ln for ln in metrics.splitlines() if ln.startswith("buddyscope_session_resyncs_total{")),
        "",
    )  # fmt: skip
    out.update(
        followers=args.followers,
        rate_steps_per_s=args.rate,
        seconds=args.seconds,
        deltas_broadcast=expected,
        followers_with_every_delta=sum(
            1 for f in followers if f.deltas == expected and f.gaps == 0 and f.resyncs == 0
        ),
        follower_gaps=sum(f.gaps for f in followers),
        follower_resyncs=sum(f.resyncs for f in followers),
        resyncs_of_the_session=float(resync_line.split()[-1]) if resync_line else None,
        stalled_followers=args.stalled,
        stalled_followers_dropped=dropped,
        controller_steps_per_s=round(pace, 1),
        session_steps_per_s=round(last_step / played_s, 1),
        load_average_1min=[round(load_start, 1), round(load_average(), 1)],
        server_cpu_share=round(server_cpu / played_s, 2),
        server_cpu_ms_per_step=round(1000 * server_cpu / max(1, last_step), 2),
        load_generator_cpu_share=round(own_cpu / played_s, 2),
        healthz_ms_p99=round(pct(health, 0.99) * 1000, 1) if health else None,
        healthz_requests=len(health),
        server_rss_mb_before=round(base, 1),
        server_rss_mb_peak=round(peak, 1),
        server_rss_growth_mb=round(peak - base, 1),
    )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=100)
    parser.add_argument("--rate", type=float, default=20.0, help="play speed, steps/s")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--stalled", type=int, default=1, help="followers that never read")
    parser.add_argument("--commands", type=int, default=500)
    parser.add_argument("--seeks", type=int, default=40)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    port = free_port()
    data = tempfile.mkdtemp(prefix="buddyscope-bench-")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    server = subprocess.Popen(
        [str(VENV_BIN / "buddyscope"), "serve", "--no-open", "--port", str(port),
         "--max-viewers", str(args.followers + args.stalled + 10),
         "--max-connections-per-client", str(args.followers + args.stalled + 10),
         "--data-dir", data],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        for line in server.stdout:
            if "dashboard at" in line:
                break
        else:
            print(server.stderr.read() if server.stderr else "", file=sys.stderr)
            return 1
        result = asyncio.run(measure(args, port, server.pid))
    finally:
        server.terminate()
        server.wait(timeout=30)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>32}: {value}")
    ok = result["followers_with_every_delta"] == args.followers
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
