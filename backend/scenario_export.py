"""A session's branch as a scenario file (the workload file format).

The branch's command log becomes the workload: a step that took workload operation k
becomes that operation (so its narration, labels and questions carry over), and the
user's own commands become operations of their own (``alloc`` under the label
``"user"``, ``free``/``touch`` by pfn, ``advance``).  Opening the file gives the same
steps, with two exceptions the format cannot express exactly; each adds one step (the
``clock`` step that ends an ``advance``) and is listed in ``notes``:

* a command given while an ``advance`` was under way splits that ``advance`` in two
  around it;
* hinting/reporting work that ran after the workload was over, followed by more
  commands, becomes an ``advance`` up to the last of that work.

``step_map[i]`` is the step of the file's timeline that corresponds to step ``i`` of
the branch.  A session started from a ``/proc`` snapshot has no workload file form.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from allocator_model import ZoneSpec

from .steps import NEXT, NSEC, Cmd, execute_recorded, initial_state
from .timeline import Branch
from .workload_file import NodeConfig, WorkloadFile, WorkloadFileError, load_workload

USER_LABEL = "user"
_NODE_KEYS = frozenset(NodeConfig.model_fields)


class ExportError(ValueError):
    """The branch cannot be written as a scenario file."""


@dataclass
class ScenarioExport:
    file: WorkloadFile
    text: str
    step_map: list[int]
    notes: list[str] = field(default_factory=list)

    @property
    def steps(self) -> int:
        return self.step_map[-1]


def _user_op(cmd: Cmd) -> dict[str, Any]:
    kind = cmd[0]
    if kind == "alloc":
        _, order, mt, zone = cmd
        op: dict[str, Any] = {"op": "alloc", "order": order, "migratetype": mt}
        if zone is not None:
            op["zone"] = zone
        op["label"] = USER_LABEL
        return op
    if kind in ("free", "touch"):
        return {"op": kind, "pfn": cmd[1], "order": cmd[2]}
    if kind == "advance":
        return {"op": "advance", "seconds": cmd[1] / NSEC}
    raise ExportError(f"cannot write the command {cmd!r} as a workload operation")


def _config(options: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    config: dict[str, Any] = {}
    seed = 0
    for key, value in options.items():
        if key == "seed":
            seed = int(value)
        elif key == "zones":
            zones: list[ZoneSpec] = list(value)
            config["zones"] = [[z.name, z.start_pfn, z.pages] for z in zones]
        elif key in _NODE_KEYS:
            config[key] = value
        else:
            raise ExportError(f"the node option {key!r} has no place in a workload file")
    return config, seed


def branch_to_scenario(branch: Branch, name: str = "") -> ScenarioExport:
    """The branch (its whole log) as a scenario file; replays it once to tell apart
    what each automatic step did."""
    plan = branch.plan
    if plan.source.start is not None:
        raise ExportError(
            "a session started from /proc/buddyinfo cannot be written as a workload file "
            "(the format starts from a booted node); export it as a session instead"
        )
    config, seed = _config(plan.source.node_options)
    node, ws, _ = initial_state(plan)
    # The setup folded into step 0 is the file's first operations (it folds them too).
    out: list[dict[str, Any]] = [dict(op) for op in plan.source.workload[: ws.wl_index]]
    op_index = dict(enumerate(range(len(out))))  # operation of the plan -> of the file
    step_map = [0]
    notes: list[str] = []
    # The advance operation of ``out`` under way: its index, start (ns), steps so far.
    open_adv: list[int] | None = None
    run: list[int] | None = None  # work after the workload: [start ns, last ns]
    for i, cmd in enumerate(branch.log):
        extra = 0
        if cmd == NEXT and ws.advance_target_ns is not None:
            if open_adv is not None:
                open_adv[2] += 1
        elif cmd == NEXT and ws.wl_index < len(plan.source.workload):
            op_index[ws.wl_index] = len(out)
            op = dict(plan.source.workload[ws.wl_index])
            out.append(op)
            if op.get("op") == "advance":
                open_adv = [len(out) - 1, node.clock_ns, 1]
        elif cmd == NEXT:
            if run is None:
                run = [node.clock_ns, node.clock_ns]
        else:
            remainder: int | None = None
            if ws.advance_target_ns is not None and open_adv is not None:
                index, start, steps = open_adv
                if cmd[0] != "advance":
                    remainder = ws.advance_target_ns - node.clock_ns
                if steps == 0:  # a remainder nothing ran in yet: take it back
                    out.pop(index)
                else:
                    out[index]["seconds"] = (node.clock_ns - start) / NSEC
                    extra += 1
                    notes.append(
                        f"step {i + 1}: {cmd[0]} during an advance; the advance is split "
                        "around it (one more step)"
                    )
                open_adv = None
            if run is not None:
                out.append({"op": "advance", "seconds": (run[1] - run[0]) / NSEC})
                extra += 1
                notes.append(
                    f"step {i + 1}: the hinting/reporting work run after the workload becomes "
                    "an advance (one more step)"
                )
                run = None
            out.append(_user_op(cmd))
            if cmd[0] == "advance":
                open_adv = [len(out) - 1, node.clock_ns, 1]
            elif remainder is not None:
                out.append({"op": "advance", "seconds": remainder / NSEC})
                open_adv = [len(out) - 1, node.clock_ns, 0]
        execute_recorded(node, ws, plan, cmd)
        node.take_events()
        if run is not None and cmd == NEXT:
            run[1] = node.clock_ns
        if ws.advance_target_ns is None:
            open_adv = None
        step_map.append(step_map[-1] + 1 + extra)
    source = plan.source.describe()
    doc: dict[str, Any] = {
        "name": (name or str(source.get("name") or plan.config.scenario))[:80],
        "title": str(source.get("title", "")),
        "summary": str(source.get("summary", "")),
        "look_for": str(source.get("look_for", "")),
        "seed": seed,
        "config": config,
        "workload": out,
    }
    questions = [
        {**q, "before_step": op_index[q["before_step"]]}
        for q in plan.source.questions
        if q.get("before_step") in op_index
    ]
    if questions:
        doc["questions"] = questions
    if plan.source.compare:
        doc["compare"] = list(plan.source.compare)
    if not out:
        raise ExportError("the session has no step that a workload file could hold yet")
    text = json.dumps(doc, indent=1) + "\n"
    try:
        wf = load_workload(text, "the exported scenario")
    except WorkloadFileError as exc:
        raise ExportError("; ".join(exc.problems)) from None
    return ScenarioExport(wf, text, step_map, notes)
