"""POST /api/sessions/from-machine: a session seeded from the server's machine frame by
frame (here the recorded 6.18 VM, tests/model/data/vm618), its refusals, and the seed
document carried in the configuration (so it exports and replays like any source)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from allocator_model.sources.builtin import build_small
from allocator_model.sources.machine import newest_kernel
from allocator_model.sources.machineread import read_seed
from backend.app import create_app
from backend.session import Settings

HEADERS = {"x-buddyscope-client": "test"}


def client_for(root: Path, **settings: object) -> TestClient:
    limits = Settings(live_root=str(root), **settings)  # type: ignore[arg-type]
    return TestClient(create_app(build_small, settings=limits, allowed_hosts=("testserver",)))


def test_a_session_seeded_from_the_machine(vm618_shared: Path) -> None:
    seed = read_seed(str(vm618_shared))
    with client_for(vm618_shared) as client:
        res = client.post("/api/sessions/from-machine", headers=HEADERS)
        assert res.status_code == 201, res.text
        created = res.json()
        info = client.get(f"/api/sessions/{created['id']}").json()
        source = info["source"]
        assert source["kind"] == "machine"
        assert f"on Linux {newest_kernel()} rules" in source["summary"]
        assert "7,857 free blocks" in source["summary"]
        assert any("below page_reporting_order" in n for n in source["notes"])
        text = client.get(f"/api/sessions/{created['id']}/buddyinfo").text
        for line, zone in zip(text.splitlines(), seed.zones, strict=True):
            counts = [0] * seed.max_order
            for order in zone.block_order:
                counts[order] += 1
            assert [int(c) for c in line.split()[4:]] == counts
        assert (
            client.post("/api/sessions/from-machine?hinting=none", headers=HEADERS).status_code
            == 201
        )


def test_refusals_say_why(vm618_root: Path) -> None:
    with client_for(vm618_root, live=False) as client:
        res = client.post("/api/sessions/from-machine", headers=HEADERS)
        assert res.status_code == 404 and "turned off" in res.json()["detail"]
    with client_for(vm618_root, live_frames=False) as client:
        res = client.post("/api/sessions/from-machine", headers=HEADERS)
        assert res.status_code == 409 and "counts only" in res.json()["detail"]
    os.remove(vm618_root / "proc" / "kpageflags")
    with client_for(vm618_root) as client:
        res = client.post("/api/sessions/from-machine", headers=HEADERS)
        assert res.status_code == 409
        assert "cannot be seeded frame by frame" in res.json()["detail"]
        assert "does not exist" in res.json()["detail"]


def simulate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backend", "simulate", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_the_cli_seeds_from_a_machine(vm618_shared: Path, tmp_path: Path) -> None:
    result = simulate("--machine", str(vm618_shared), "--until", "5s")
    assert result.returncode == 0, result.stderr
    assert "buddyscope simulate: machine: this machine: 6,553,599 frames" in result.stderr
    dma = result.stdout.splitlines()[0].split()[4:]
    assert dma == ["0"] * 8 + ["1", "1", "3"]  # as seeded
    empty = tmp_path / "empty"
    (empty / "proc").mkdir(parents=True)
    result = simulate("--machine", str(empty))
    assert result.returncode == 2
    assert f"--machine {empty}: this machine cannot be seeded frame by frame" in result.stderr


def test_buddyscope_live_does_not_import_the_server() -> None:
    """`buddyscope live` reads /proc and prints: FastAPI and the model's scenarios stay
    unimported (they were 0.6 s of a `live --once`)."""
    code = (
        "import sys, backend.cli; "
        "print(sorted(m for m in ('fastapi', 'pydantic', 'backend.session') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"
