"""The scenario library: narrated, seeded teaching scenarios stored as JSON files.

A scenario is a node configuration, a seed, a workload (see ``workload.py``) whose
``phase`` operations carry the narration, a "what to look for" note and optional quiz
questions.  The files live in ``allocator_model/sources/scenarios/``; a teacher can copy one,
edit it and load it from anywhere with ``Scenario.from_file``.

File format (JSON)::

    {
      "name": "buddy-basics", "title": "...", "summary": "...", "look_for": "...",
      "seed": 0,
      "config": {"zones": [["Normal", 0, 1024]], "kernel": "5.10", "hinting": "none",
                 "hinting_options": {}, "min_free_kbytes": 0, "pcp": false,
                 "max_order": 11, "pageblock_order": 9},
      "workload": [{"op": "phase", "text": "..."}, {"op": "alloc", "order": 0}, ...],
      "compare": ["hinting-v2", "reporting"],            (optional: a side-by-side view)
      "inspect": [{"step": 5, "pfn": 0}],                  (optional: pages to open)
      "questions": [{"before_step": 3, "ask": "...", "kind": "which_end"}]
    }
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from ..kernel.node import Node, ZoneSpec, default_kernel
from .workload import WorkloadError, expand

CONFIG_KEYS = (
    "zones", "kernel", "hinting", "hinting_options", "min_free_kbytes", "pcp", "max_order",
    "pageblock_order", "cma", "pcp_batch", "pcp_high", "host_resident_at_boot",
    "watermark_scale_factor", "thp", "watermark_boost_factor",
)  # fmt: skip


class ScenarioError(WorkloadError):
    """A scenario file that cannot be used; the message names the file and field."""


@dataclass
class Scenario:
    name: str
    title: str
    summary: str
    look_for: str
    seed: int
    config: dict[str, Any]
    workload: list[dict[str, Any]]
    compare: list[str] = field(default_factory=list)
    inspect: list[dict[str, int]] = field(default_factory=list)
    questions: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Any, where: str = "scenario") -> Scenario:
        if not isinstance(data, dict):
            raise ScenarioError(f"{where}: a scenario is a JSON object")
        for key in ("name", "title", "summary", "look_for", "workload"):
            if key not in data:
                raise ScenarioError(f"{where}: missing field {key!r}")
        config = data.get("config", {})
        if not isinstance(config, dict):
            raise ScenarioError(f"{where}: 'config' must be an object")
        unknown = sorted(set(config) - set(CONFIG_KEYS))
        if unknown:
            raise ScenarioError(f"{where}: unknown config field(s) {', '.join(unknown)}")
        scenario = cls(
            name=str(data["name"]),
            title=str(data["title"]),
            summary=str(data["summary"]),
            look_for=str(data["look_for"]),
            seed=int(data.get("seed", 0)),
            config=config,
            workload=data["workload"],
            compare=list(data.get("compare", [])),
            inspect=list(data.get("inspect", [])),
            questions=list(data.get("questions", [])),
        )
        try:
            scenario.ops()
        except WorkloadError as exc:
            raise ScenarioError(f"{where}: {exc}") from None
        return scenario

    @classmethod
    def from_file(cls, path: str) -> Scenario:
        try:
            with open(path) as f:
                data = json.load(f)
        except json.JSONDecodeError as exc:
            raise ScenarioError(f"{path}: line {exc.lineno}: {exc.msg}") from None
        except OSError as exc:
            raise ScenarioError(f"{path}: {exc.strerror}") from None
        return cls.from_dict(data, path)

    def node_options(self, **overrides: Any) -> dict[str, Any]:
        # What the file leaves out follows Node's defaults (the kernel for its strategy,
        # per-cpu lists for the default guest, THP, watermark boosting): a scenario
        # teaching the raw buddy lists says "pcp": false, and says so on screen.
        options: dict[str, Any] = {k: v for k, v in self.config.items() if k != "zones"}
        if "zones" in self.config:
            options["zones"] = [
                ZoneSpec(str(n), int(s), int(p)) for n, s, p in self.config["zones"]
            ]
        options["seed"] = self.seed
        options.update(overrides)
        return options

    def node(self, **overrides: Any) -> Node:
        """A fresh node for this scenario (``overrides`` e.g. hinting=..., events=False)."""
        return Node(**self.node_options(**overrides))

    def ops(self) -> list[dict[str, Any]]:
        """The workload expanded to primitive operations: one per timeline step."""
        return expand(self.workload, self.seed)

    def summary_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "summary": self.summary,
            "look_for": self.look_for,
            "seed": self.seed,
            "hinting": self.config.get("hinting", "none"),
            "kernel": self.config.get("kernel", default_kernel(self.config.get("hinting", "none"))),
            "compare": self.compare,
            "steps": len(self.ops()),
            "questions": len(self.questions),
        }


def library() -> dict[str, Scenario]:
    """Every scenario shipped with buddyscope, by name, in teaching order."""
    out: dict[str, Scenario] = {}
    folder = resources.files("allocator_model.sources") / "scenarios"
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".json"):
            scenario = Scenario.from_dict(json.loads(entry.read_text()), f"scenarios/{entry.name}")
            out[scenario.name] = scenario
    return out


def load(name: str) -> Scenario:
    scenarios = library()
    if name not in scenarios:
        raise ScenarioError(f"unknown scenario {name!r}: choose one of {', '.join(scenarios)}")
    return scenarios[name]
