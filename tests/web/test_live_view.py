"""The live host view (GET /api/live, /ws/live) on a fake /proc and /sys tree, on a
machine without any of it, and turned off."""

from __future__ import annotations

import base64
import os
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from wirehelp import receive

from allocator_model.kernel.fragmentation import unusable_free_index
from allocator_model.sources.builtin import build_small
from allocator_model.sources.kpageflags import KINDS
from backend.app import create_app
from backend.protocol import Live
from backend.session import Settings

pytestmark = pytest.mark.timeout(600)

DATA = Path(__file__).resolve().parents[1] / "model" / "data"
ZONEINFO = """\
Node 0, zone      DMA
  pages free     3840
        min      48
        low      60
        high     72
        spanned  4095
        present  3998
        managed  3840
  start_pfn:           1
Node 0, zone   Normal
  pages free     476047
        min      7057
        low      8821
        high     10585
        spanned  557056
        present  557056
        managed  557056
"""


def fake_root(root: Path) -> Path:
    proc = root / "proc"
    proc.mkdir(parents=True)
    (proc / "buddyinfo").write_text((DATA / "buddyinfo.txt").read_text())
    (proc / "pagetypeinfo").write_text((DATA / "pagetypeinfo.txt").read_text())
    (proc / "kpageflags").write_bytes((DATA / "kpageflags-dma.bin").read_bytes())  # DMA only
    (proc / "zoneinfo").write_text(ZONEINFO)
    params = root / "sys" / "module" / "page_reporting" / "parameters"
    params.mkdir(parents=True)
    (params / "page_reporting_order").write_text("9\n")
    (params / "reported_kib").write_text("5085084\n")  # this kernel build's own
    return root


def live_client(root: Path, **settings: object) -> TestClient:
    limits = Settings(live_root=str(root), live_interval_s=0.01, **settings)  # type: ignore[arg-type]
    return TestClient(create_app(build_small, settings=limits, allowed_hosts=("testserver",)))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with live_client(fake_root(tmp_path)) as c:
        yield c


def test_one_reading_has_counts_watermarks_and_reporting(client: TestClient) -> None:
    r = client.get("/api/live")
    assert r.status_code == 200, r.text
    live = Live.model_validate(r.json()).model_dump()
    assert [z["zone"] for z in live["buddyinfo"]] == ["DMA", "DMA32", "Normal"]
    normal = live["buddyinfo"][2]
    assert normal["counts"] == [1931, 961, 641, 438, 217, 94, 31, 14, 4, 1, 367]
    assert normal["unusable_index"] == [unusable_free_index(normal["counts"], k) for k in range(11)]
    assert live["pagetypeinfo"]["pageblock_order"] == 9
    movable = [
        row for row in live["pagetypeinfo"]["free"]
        if row["zone"] == "Normal" and row["migratetype"] == "Movable"
    ]  # fmt: skip
    assert len(movable) == 1 and len(movable[0]["counts"]) == 11  # per order and type
    dma = live["zoneinfo"][0]
    assert (dma["zone"], dma["min"], dma["low"], dma["high"]) == ("DMA", 48, 60, 72)
    assert live["reporting"] == {"page_reporting_order": "9"}
    assert live["reporting_extra"] == {"reported_kib": "5085084"}  # flagged as optional
    assert live["messages"] == []


def test_the_websocket_sends_readings_while_watched(client: TestClient, tmp_path: Path) -> None:
    hub = client.app.state.buddyscope.live  # type: ignore[attr-defined]
    assert hub.task is None  # nobody watches: nothing is read
    with client.websocket_connect("/ws/live") as ws:
        first = receive(ws)
        assert first["type"] == "live" and first["seq"] == 1
        assert first["buddyinfo"][0]["counts"][-1] == 3
        text = (DATA / "buddyinfo.txt").read_text().replace("1      1      3", "1      1      7")
        (tmp_path / "proc" / "buddyinfo").write_text(text)
        seq = 1
        while True:  # readings keep coming, numbered, until one shows the change
            msg = receive(ws)
            assert msg["seq"] == seq + 1
            seq = msg["seq"]
            if msg["buddyinfo"][0]["counts"][-1] == 7:
                break
        assert hub.task is not None
    with client.websocket_connect("/ws/live") as again:
        assert receive(again)["seq"] == 1
    assert not hub.watchers and hub.task is None  # nobody watches: the reads stop


def unpack(frame_map: dict[str, object]) -> bytes:
    return zlib.decompress(base64.b64decode(str(frame_map["data"])))


def test_the_frame_map_comes_whole_then_as_changed_chunks(
    client: TestClient, tmp_path: Path
) -> None:
    flags = tmp_path / "proc" / "kpageflags"
    assert client.get("/api/live").json()["frames"] is None  # the frames are for watchers
    with client.websocket_connect("/ws/live") as ws:
        first = receive(ws)["frames"]
        assert first["kinds"][:3] == ["other", "free", "reported"]
        (dma,) = first["zones"]
        assert dma["free"] == [0] * 8 + [1, 1, 3] and dma["reported"] == [0] * 8 + [0, 1, 2]
        whole = first["map"]
        assert whole["full"] and whole["chunks"] == [0] and whole["frames"] == 4096
        kinds = unpack(whole)
        free, reported = first["free_code"], first["reported_code"]
        assert kinds[1:256] == bytes([KINDS.index("reserved")]) * 255
        assert kinds[256:512] == bytes([free + 8]) * 256  # order 8, not reported
        assert kinds[512:1024] == bytes([reported + 9]) * 512
        assert kinds[2048:3072] == bytes([free + 10]) * 1024
        words = bytearray(flags.read_bytes())
        words[2048 * 8] |= 1 << 3  # the kernel reports the block at pfn 2048
        staged = tmp_path / "kpageflags.new"
        staged.write_bytes(bytes(words))
        os.replace(staged, flags)  # at once: the server reads the file while we write it
        while True:  # unchanged readings carry an empty diff until the change is seen
            frame_map = receive(ws)["frames"]["map"]
            assert not frame_map["full"]
            if frame_map["chunks"]:
                break
            assert unpack(frame_map) == b""
        assert frame_map["chunks"] == [0]
        after = unpack(frame_map)
        assert after[2048:3072] == bytes([reported + 10]) * 1024
        assert after[:2048] == kinds[:2048] and after[3072:] == kinds[3072:]


def test_a_machine_without_the_files_gets_messages(tmp_path: Path) -> None:
    with live_client(tmp_path / "nothing") as client:
        live = client.get("/api/live").json()
        assert live["buddyinfo"] == [] and live["pagetypeinfo"] is None
        assert live["zoneinfo"] == [] and live["reporting"] == {}
        messages = " ".join(live["messages"])
        assert "buddyinfo does not exist" in messages and "page_reporting" in messages
        with client.websocket_connect("/ws/live") as ws:  # the same, and why there is no map
            watched = receive(ws)["messages"]
            assert [m for m in watched if "kpageflags" not in m] == live["messages"]
            assert "/proc/kpageflags was not read" in watched[3]


def test_the_live_view_can_be_turned_off(tmp_path: Path) -> None:
    with live_client(fake_root(tmp_path), live=False) as client:
        assert client.get("/api/live").status_code == 404
        with client.websocket_connect("/ws/live") as ws:
            err = receive(ws)
            assert err["type"] == "error" and err["code"] == "not_found"
            with pytest.raises(WebSocketDisconnect) as exc:
                receive(ws)
            assert exc.value.code == 4404


def test_a_foreign_origin_cannot_watch(client: TestClient) -> None:
    with (
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect("/ws/live", headers={"origin": "http://evil.example"}) as ws,
    ):
        receive(ws)


def test_a_server_can_leave_out_the_frames(tmp_path: Path) -> None:
    with (
        live_client(fake_root(tmp_path), live_frames=False) as client,
        client.websocket_connect("/ws/live") as ws,
    ):
        live = receive(ws)
        assert live["frames"] is None and live["messages"] == []  # nothing missing: not read
        assert live["buddyinfo"][0]["counts"][-1] == 3
