"""``buddyscope simulate``, ``compare`` and ``bench``: the model without a browser.

``simulate`` steps a scenario, a workload file, a recorded trace or a node started
from a real machine's ``/proc/buddyinfo`` exactly as a session's timeline does (one
workload operation or one hinting/reporting work item per step) and prints what
``/proc`` would show.  Errors are one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from allocator_model import ModelError
from allocator_model.workload import BUILTIN, WorkloadError, expand

from .scenarios import Plan, ScenarioNotFound, SessionConfig, plan_for
from .sources import SourceError
from .timeline import NSEC, CheckpointPolicy, TimelineError, start_branch
from .workload_file import WorkloadFileError, load_workload, node_options, to_model_ops

#: No checkpoints are needed for a run that never seeks.
NO_CHECKPOINTS = CheckpointPolicy(budget_s=float("inf"), min_gap=1 << 40, max_gap=1 << 40)


class UsageError(Exception):
    pass


def _fail(prog: str, message: str, err: TextIO) -> int:
    print(f"{prog}: error: {message}", file=err)
    return 2


def _load_ops(spec: str) -> tuple[list[dict[str, Any]], dict[str, Any], int, str]:
    """(operations, node options, seed, name) of a built-in workload or a file."""
    if spec in BUILTIN:
        from allocator_model.compare import COMPARE_ZONES

        return BUILTIN[spec], {"zones": list(COMPARE_ZONES)}, 0, spec
    path = Path(spec)
    if not path.is_file():
        raise UsageError(
            f"no workload file {spec!r} and no built-in of that name "
            f"(built-ins: {', '.join(sorted(BUILTIN))})"
        )
    try:
        wf = load_workload(path.read_text(), str(path))
    except WorkloadFileError as exc:
        raise UsageError(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {spec!r}: {exc}") from None
    return to_model_ops(wf), node_options(wf), wf.seed, wf.name


def _read(flag: str, path: str) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError as exc:
        raise UsageError(f"{flag}: cannot read {path!r}: {exc.strerror or exc}") from None


def _sourced_plan(args: argparse.Namespace) -> Plan | None:
    """A plan from --trace, --buddyinfo [--pagetypeinfo] or a --workload file (the same
    loading as the server's), or None."""
    fields: dict[str, object] = {}
    source = ""
    if getattr(args, "trace", None) is not None:
        fields["trace"] = _read("--trace", args.trace)
        source = args.trace
    elif getattr(args, "buddyinfo", None) is not None:
        fields["buddyinfo"] = _read("--buddyinfo", args.buddyinfo)
        if args.pagetypeinfo is not None:
            fields["pagetypeinfo"] = _read("--pagetypeinfo", args.pagetypeinfo)
        source = args.buddyinfo
    elif (
        args.workload is not None and args.workload not in BUILTIN and Path(args.workload).is_file()
    ):
        fields["workload"] = _read("--workload", args.workload)
        source = args.workload
    else:
        if getattr(args, "pagetypeinfo", None) is not None:
            raise UsageError("--pagetypeinfo goes with --buddyinfo")
        return None
    overrides = {"hinting": args.strategy, "kernel": args.kernel, "seed": args.seed}
    fields.update({k: v for k, v in overrides.items() if v is not None})
    if args.pages is not None:
        fields["pages"] = args.pages
    try:
        return plan_for(SessionConfig.model_validate(fields))
    except SourceError as exc:
        raise UsageError(f"{source}: " + "; ".join(exc.problems)) from None
    except ValueError as exc:
        raise UsageError(f"{source}: {exc}") from None


def plan_from_args(args: argparse.Namespace) -> Plan:
    sourced = _sourced_plan(args)
    if sourced is not None:
        return sourced
    if args.workload is not None:
        ops, options, seed, name = _load_ops(args.workload)
        if args.seed is not None:
            seed = args.seed
        options = {**options, "seed": seed}
        if args.strategy is not None and args.strategy != options.get("hinting", "none"):
            options["hinting"] = args.strategy
            options.pop("hinting_options", None)
        if args.kernel is not None:
            options["kernel"] = args.kernel
        if args.pages is not None:
            from allocator_model import ZoneSpec, default_zones

            zones = list(options.get("zones") or default_zones())
            zones[-1] = ZoneSpec(zones[-1].name, zones[-1].start_pfn, args.pages)
            options["zones"] = zones
        try:
            workload = tuple(expand(ops, seed))
        except WorkloadError as exc:
            raise UsageError(str(exc)) from None
        config = SessionConfig(scenario=f"workload:{name}")
        return Plan(config, options, workload, False, seed)
    config = SessionConfig(
        scenario=args.scenario or "default",
        hinting=args.strategy,
        kernel=args.kernel,
        seed=args.seed,
        pages=args.pages,
    )
    try:
        return plan_for(config)
    except ScenarioNotFound as exc:
        raise UsageError(str(exc)) from None


def simulate(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    prog = "buddyscope simulate"
    try:
        plan = plan_from_args(args)
        view = start_branch(0, plan, NO_CHECKPOINTS)
    except UsageError as exc:
        return _fail(prog, str(exc), err)
    except (ModelError, ValueError) as exc:
        return _fail(prog, f"impossible configuration: {exc}", err)
    source = plan.source
    if source.get("kind") in ("trace", "buddyinfo"):
        said = source["trace"]["summary"] if source.get("trace") else source.get("summary", "")
        print(f"{prog}: {source['kind']}: {said}", file=err)
        for note in source.get("notes", []):
            print(f"{prog}: note: {note}", file=err)
    mode, amount = args.until
    steps = 0
    stopped = "end"
    while steps < args.max_steps:
        if mode == "steps" and steps >= amount:
            stopped = "steps"
            break
        if mode == "seconds":
            due = view.node.next_work_ns()
            over = view.ws.wl_index >= len(plan.workload) and view.ws.advance_target_ns is None
            if view.node.clock >= amount or (over and (due is None or due > amount * NSEC)):
                break
        try:
            view.forward(None, extend=True, policy=NO_CHECKPOINTS, max_steps=args.max_steps)
        except TimelineError:
            break
        steps += 1
    else:
        stopped = "max_steps"
    node = view.node
    if mode == "seconds" and node.clock < amount:
        node.advance(amount - node.clock)
    if args.format == "buddyinfo":
        out.write(node.buddyinfo())
    elif args.format == "pagetypeinfo":
        out.write(node.pagetypeinfo())
    else:
        stats = node.host.stats()
        doc = {
            "scenario": plan.config.scenario,
            "strategy": node.hinting,
            "kernel": node.kernel,
            "seed": plan.seed,
            "steps": steps,
            "stopped": stopped,
            "clock": node.clock,
            "zones": [
                {
                    "name": z.name,
                    "start_pfn": z.start_pfn,
                    "spanned_pages": z.spanned_pages,
                    "nr_free": list(z.nr_free),
                    "nr_free_pages": z.nr_free_pages,
                }
                for z in node.zones
            ],
            "host": dataclasses.asdict(stats),
            "hinting": node.hinting_state(),
            "source": plan.source,
        }
        out.write(json.dumps(doc, indent=1) + "\n")
    return 0


def compare(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    from allocator_model.compare import compare as run_compare
    from allocator_model.compare import format_table

    prog = "buddyscope compare"
    workload: str | list[dict[str, Any]] = args.workload
    options: dict[str, Any] = {}
    if args.workload not in BUILTIN:
        try:
            ops, node_opts, _seed, _name = _load_ops(args.workload)
        except UsageError as exc:
            return _fail(prog, str(exc), err)
        workload = ops
        if "zones" in node_opts:
            options["zones"] = node_opts["zones"]
    try:
        results = run_compare(workload, args.seed, kernel=args.kernel, **options)
    except (WorkloadError, ModelError, ValueError) as exc:
        return _fail(prog, str(exc), err)
    if args.json:
        out.write(json.dumps([dataclasses.asdict(r) for r in results]) + "\n")
    else:
        out.write(format_table(results))
    return 0


def bench(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    from .benchmark import server_figures

    both = not args.model and not args.server
    result: dict[str, Any] = {}
    if args.model or both:
        from allocator_model.bench import measure

        result["model"] = measure(ops=min(args.steps * 3, 300_000), seed=args.seed)
    if args.server or both:
        result["server"] = server_figures(pages=args.pages, steps=args.steps, seed=args.seed)
    if args.json:
        out.write(json.dumps(result) + "\n")
    else:
        for part, figures in result.items():
            out.write(f"{part}:\n")
            for key, value in figures.items():
                out.write(f"  {key:>34}: {value}\n")
    return 0
