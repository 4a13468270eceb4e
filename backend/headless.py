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
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

from allocator_model import ModelError
from allocator_model.sources.source import ScenarioNotFound, Source, SourceError, kernel_of
from allocator_model.sources.workload import BUILTIN, expand

from .configure import check_size
from .settings import CommandError, Settings
from .sources import (
    MAX_PROC_CHARS,
    MAX_TRACE_CHARS,
    MAX_WORKLOAD_CHARS,
    Plan,
    SessionConfig,
    plan_for,
)
from .steps import NSEC, TimelineError
from .timeline import CheckpointPolicy, start_branch

if TYPE_CHECKING:
    from allocator_model.lab.compare import StrategyResult

#: No checkpoints are needed for a run that never seeks.
NO_CHECKPOINTS = CheckpointPolicy(budget_s=float("inf"), min_gap=1 << 40, max_gap=1 << 40)


class UsageError(Exception):
    pass


def _fail(prog: str, message: str, err: TextIO) -> int:
    print(f"{prog}: error: {message}", file=err)
    return 2


#: The most characters each kind of file may have: the server's limits for its texts.
_CAPS: Final = {
    "--workload": MAX_WORKLOAD_CHARS,
    "--buddyinfo": MAX_PROC_CHARS,
    "--pagetypeinfo": MAX_PROC_CHARS,
    "--trace": MAX_TRACE_CHARS,
}


def _read(flag: str, path: str) -> str:
    """The file's text, read up to its kind's cap and no further (``--trace /dev/zero``
    stops there instead of filling memory)."""
    cap = _CAPS[flag]
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read(cap + 1)
    except OSError as exc:
        raise UsageError(f"{flag}: cannot read {path!r}: {exc.strerror or exc}") from None
    if len(text) > cap:
        raise UsageError(
            f"{flag}: {path!r} is longer than the {cap} characters such a file may have"
        )
    return text


def _within_limits(plan: Plan, source: str) -> Plan:
    """``plan`` if it is within a default server's limits (checked from its sizes, so a
    file that claims billions of pages is refused before any is built)."""
    try:
        check_size(plan, Settings())
    except CommandError as exc:
        raise UsageError(f"{source}: {exc.message}") from None
    return plan


def _sourced_plan(args: argparse.Namespace) -> Plan | None:
    """A plan from --trace, --buddyinfo [--pagetypeinfo], --machine [ROOT] or a --workload
    file (the same loading as the server's), or None."""
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
    elif getattr(args, "machine", None) is not None:
        from allocator_model.sources.machineread import read_seed_text

        source = f"--machine {args.machine}"
        try:
            fields["machine"] = read_seed_text(args.machine)
        except ModelError as exc:
            raise UsageError(f"{source}: {exc}") from None
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
        plan = plan_for(SessionConfig.model_validate(fields))
    except SourceError as exc:
        raise UsageError(f"{source}: " + "; ".join(exc.problems)) from None
    except ValueError as exc:
        raise UsageError(f"{source}: {exc}") from None
    return _within_limits(plan, source)


def plan_from_args(args: argparse.Namespace) -> Plan:
    sourced = _sourced_plan(args)
    if sourced is not None:
        return sourced
    if args.workload is not None:
        if args.workload not in BUILTIN:
            raise UsageError(
                f"no workload file {args.workload!r} and no built-in of that name "
                f"(built-ins: {', '.join(sorted(BUILTIN))})"
            )
        source = workload_plan(args.workload, args.seed or 0, args.pages).source
        # compare() expands the workload itself; a session runs it expanded.
        workload = tuple(expand(list(source.workload), source.seed))
        source = dataclasses.replace(source, workload=workload).configured(
            kernel=args.kernel, hinting=args.strategy
        )
        config = SessionConfig(scenario=f"workload:{args.workload}")
        return _within_limits(Plan(config, source), args.workload)
    config = SessionConfig(
        scenario=args.scenario or "default",
        hinting=args.strategy,
        kernel=args.kernel,
        seed=args.seed,
        pages=args.pages,
    )
    try:
        return _within_limits(plan_for(config), config.scenario)
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
    source = plan.source.describe()
    if source.get("kind") in ("trace", "buddyinfo", "machine"):
        said = source["trace"]["summary"] if source.get("trace") else source.get("summary", "")
        print(f"{prog}: {source['kind']}: {said}", file=err)
        for note in source.get("notes", []):
            print(f"{prog}: note: {note}", file=err)
    if view.node.what_if is not None:
        print(f"{prog}: note: {view.node.what_if}", file=err)
    mode, amount = args.until
    steps = 0
    stopped = "end"
    while steps < args.max_steps:
        if mode == "steps" and steps >= amount:
            stopped = "steps"
            break
        if mode == "seconds":
            due = view.node.next_work_ns()
            ws = view.ws
            over = ws.wl_index >= len(plan.source.workload) and ws.advance_target_ns is None
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
            "what_if": node.what_if,
            "seed": plan.source.seed,
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
            "source": plan.source.describe(),
        }
        out.write(json.dumps(doc, indent=1) + "\n")
    return 0


# --- compare -------------------------------------------------------------------------
#
# One path from a source to ``allocator_model.lab.compare.compare`` for the command line and
# GET /api/compare (so ``buddyscope compare --scenario S --seed N`` prints what the page
# shows for a session of S with seed N).


def workload_plan(
    name: str, seed: int = 0, pages: int | None = None, pcp: bool | None = None
) -> Plan:
    """The plan of a built-in workload as ``compare`` runs it: on ``COMPARE_ZONES``."""
    from allocator_model import ZoneSpec
    from allocator_model.lab.compare import COMPARE_ZONES

    if name not in BUILTIN:
        raise UsageError(
            f"no built-in workload {name!r}; choose one of {', '.join(sorted(BUILTIN))}"
        )
    zones = list(COMPARE_ZONES)
    if pages is not None:
        zones[-1] = ZoneSpec(zones[-1].name, zones[-1].start_pfn, pages)
    options: dict[str, Any] = {"zones": zones, "seed": seed}
    if pcp is not None:
        options["pcp"] = pcp
    config = SessionConfig(scenario=f"workload:{name}", seed=seed, pages=pages, pcp=pcp)
    return Plan(config, Source(options, tuple(BUILTIN[name]), seed))


def compare_kernel(plan: Plan, kernel: str | None = None) -> str:
    """The kernel a comparison runs: ``kernel``, else the plan's; 5.3 has no reporting,
    so a 5.3 plan is compared under 5.10."""
    planned = kernel_of(plan.source.node_options)
    return kernel or (planned if planned != "5.3" else "5.10")


def compare_plan(
    plan: Plan, kernel: str | None = None, stop: Callable[[], bool] | None = None
) -> list[StrategyResult]:
    """``compare()`` of the plan's workload and node (its zones, seed and options, but
    the kernel's constants) under none and the strategies the plan names (all if none);
    ``stop`` ends it early (``allocator_model.lab.compare.ComparisonStopped``)."""
    from allocator_model import default_zones
    from allocator_model.kernel.node import STRATEGIES
    from allocator_model.lab.compare import compare as run_compare

    if plan.source.start is not None:
        raise ValueError("a node started from /proc has no workload to compare")
    options = dict(plan.source.node_options)
    zones = options.pop("zones", None) or list(default_zones())
    seed = int(options.pop("seed", plan.source.seed))
    for key in ("kernel", "hinting", "hinting_options"):
        options.pop(key, None)
    strategies = list(plan.source.compare) or list(STRATEGIES)
    if "none" not in strategies:
        strategies.insert(0, "none")
    return run_compare(
        list(plan.source.workload),
        seed,
        strategies,
        kernel=compare_kernel(plan, kernel),
        zones=zones,
        node_options=options,
        stop=stop,
    )


def compare_command(plan: Plan, kernel: str) -> str:
    """The command line that prints the same comparison as ``compare_plan(plan, kernel)``
    (``FILE`` stands for the workload file or trace a plan was loaded from)."""
    config = plan.config
    if config.workload is not None:
        what = "--workload FILE"
    elif config.trace is not None:
        what = "--trace FILE"
    elif config.scenario.startswith("workload:"):
        what = f"--workload {config.scenario.removeprefix('workload:')}"
    else:
        what = f"--scenario {config.scenario}"
    parts = ["buddyscope compare", what, f"--seed {plan.source.seed}", f"--kernel {kernel}"]
    if config.pages is not None:
        parts.append(f"--pages {config.pages}")
    if config.pcp is not None:
        parts.append(f"--pcp {'on' if config.pcp else 'off'}")
    return " ".join(parts)


def compare_notes(plan: Plan, kernel: str, own_operations: int = 0) -> list[str]:
    """What a comparison of ``plan`` leaves out of what a session of it shows."""
    from allocator_model.kernel.node import STRATEGIES
    from allocator_model.lab.compare import what_if_notes

    notes = []
    planned = kernel_of(plan.source.node_options)
    if planned != kernel:
        why = ": merged free page reporting does not exist in 5.3" if planned == "5.3" else ""
        notes.append(f"compare() runs Linux {kernel} rules, not {planned}{why}.")
    strategies = list(plan.source.compare) or list(STRATEGIES)
    notes.extend(what_if_notes(strategies, kernel))
    constants = plan.config.constants
    if constants:
        changed = ", ".join(f"{k} = {v:g}" for k, v in sorted(constants.items()))
        notes.append(
            f"Your constants ({changed}) are not used: compare() runs every strategy "
            "with the kernel's values."
        )
    if own_operations:
        notes.append(
            f"This session's timeline has {own_operations} operation"
            f"{'s' if own_operations != 1 else ''} of your own (allocate, free, touch, "
            "advance): compare() replays the workload without them."
        )
    return notes


def _compare_source(args: argparse.Namespace) -> Plan:
    """The plan of ``buddyscope compare``'s arguments, loaded as a session loads it."""
    pcp = None if args.pcp is None else args.pcp == "on"
    if args.scenario is None and args.trace is None and args.workload is None:
        args.workload = "buffer-reuse"
    if args.workload is not None and args.workload in BUILTIN:
        seed = 0 if args.seed is None else args.seed
        return workload_plan(args.workload, seed, args.pages, pcp)
    fields: dict[str, object] = {"seed": args.seed, "pages": args.pages, "pcp": pcp}
    if args.scenario is not None:
        fields["scenario"] = source = args.scenario
    elif args.trace is not None:
        fields["trace"] = _read("--trace", args.trace)
        source = args.trace
    else:
        if not Path(args.workload).is_file():
            raise UsageError(
                f"no workload file {args.workload!r} and no built-in of that name "
                f"(built-ins: {', '.join(sorted(BUILTIN))})"
            )
        fields["workload"] = _read("--workload", args.workload)
        source = args.workload
    try:
        config = SessionConfig.model_validate({k: v for k, v in fields.items() if v is not None})
        return _within_limits(plan_for(config), source)
    except ScenarioNotFound as exc:
        raise UsageError(str(exc)) from None
    except SourceError as exc:
        raise UsageError(f"{source}: " + "; ".join(exc.problems)) from None
    except ValueError as exc:
        raise UsageError(f"{source}: {exc}") from None


def compare(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    from allocator_model.lab.compare import format_table

    prog = "buddyscope compare"
    try:
        plan = _compare_source(args)
        kernel = compare_kernel(plan, args.kernel)
        results = compare_plan(plan, kernel)
    except UsageError as exc:
        return _fail(prog, str(exc), err)
    except (ModelError, ValueError) as exc:
        return _fail(prog, f"the model refuses the comparison: {exc}", err)
    for note in compare_notes(plan, kernel):
        print(f"{prog}: note: {note}", file=err)
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
        from allocator_model.lab.bench import measure

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
