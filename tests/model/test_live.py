"""The live host view reads /proc and /sys, and copes when they are missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from allocator_model.sources.live import format_text, main, parse_zoneinfo, read_live

DATA = Path(__file__).parent / "data"

ZONEINFO = """\
Node 0, zone      DMA
  per-node stats
      nr_inactive_anon 1
  pages free     3840
        boost    0
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
        managed  557056
Node 0, zone  Movable
  pages free     0
        managed  0
"""


def fake_root(tmp_path: Path, extras: bool = True) -> Path:
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "buddyinfo").write_text((DATA / "buddyinfo.txt").read_text())
    (proc / "pagetypeinfo").write_text((DATA / "pagetypeinfo.txt").read_text())
    (proc / "kpageflags").write_bytes((DATA / "kpageflags-dma.bin").read_bytes())  # DMA only
    (proc / "zoneinfo").write_text(ZONEINFO)
    params = tmp_path / "sys" / "module" / "page_reporting" / "parameters"
    params.mkdir(parents=True)
    (params / "page_reporting_order").write_text("9\n")
    if extras:
        (params / "reported_kib").write_text("5085084\n")
    return tmp_path


def test_zoneinfo_watermarks() -> None:
    zones = parse_zoneinfo(ZONEINFO)
    dma = zones[0]
    assert (dma.zone, dma.free, dma.min, dma.low, dma.high, dma.managed) == (
        "DMA",
        3840,
        48,
        60,
        72,
        3840,
    )
    assert zones[1].zone == "Normal" and zones[1].free == 476047


def test_reads_a_full_machine(tmp_path: Path) -> None:
    snap = read_live(str(fake_root(tmp_path)))
    assert not snap.messages
    assert [r["zone"] for r in snap.buddyinfo] == ["DMA", "DMA32", "Normal"]
    assert snap.reporting == {"page_reporting_order": "9"}
    assert snap.reporting_extra == {"reported_kib": "5085084"}  # optional, shown apart
    assert [z.zone for z in snap.zoneinfo] == ["DMA", "Normal"]  # unpopulated zones dropped
    text = format_text(snap)
    assert "page_reporting_order = 9" in text
    assert "(this kernel's own, shown, not modelled): reported_kib = 5085084" in text


def test_missing_and_unreadable_files_give_messages(tmp_path: Path) -> None:
    root = fake_root(tmp_path)
    os.remove(root / "proc" / "pagetypeinfo")
    (root / "proc" / "pagetypeinfo").mkdir()  # unreadable as a file
    os.remove(root / "proc" / "zoneinfo")
    snap = read_live(str(root))
    assert snap.buddyinfo and snap.pagetypeinfo is None
    assert any("zoneinfo does not exist" in m for m in snap.messages)
    assert any("pagetypeinfo" in m for m in snap.messages)
    empty = read_live(str(tmp_path / "nothing"))
    assert len(empty.messages) == 5 and "page reporting" in empty.messages[-1]
    assert "/proc/kpageflags was not read" in empty.messages[3]  # no zone spans to place it


def test_cli_once_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--once", "--format", "json", "--root", str(fake_root(tmp_path))]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["reporting"]["page_reporting_order"] == "9"


def test_this_machine() -> None:
    if not os.path.exists("/proc/buddyinfo"):
        pytest.skip("this machine has no /proc/buddyinfo")
    snap = read_live()
    assert snap.buddyinfo
    for z in snap.zoneinfo:
        assert z.min is not None and z.low is not None and z.min <= z.low


def test_the_live_reader_does_not_build_the_kernel_model() -> None:
    """`buddyscope live --once` imports the /proc and kpageflags readers only: the
    package's public names are imported when first used, not with the package."""
    code = (
        "import sys, allocator_model.sources.live;"
        "print(sorted(m for m in sys.modules if m.startswith('allocator_model.kernel.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "allocator_model.kernel.node" not in out and "allocator_model.kernel.zone" not in out
    assert "allocator_model.kernel.vmstat" in out


def test_every_public_name_is_the_one_in_its_module() -> None:
    import allocator_model
    from allocator_model.kernel import errors, events, node, zone
    from allocator_model.sources import fromproc

    homes = [errors, events, node, zone, fromproc]
    for name in allocator_model.__all__:
        value = getattr(allocator_model, name)
        assert any(getattr(m, name, None) is value for m in homes), name
    with pytest.raises(AttributeError, match="no attribute 'Nod'"):
        allocator_model.Nod  # noqa: B018
