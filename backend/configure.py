"""From a ``configure`` command or a request to a checked ``Plan``: the fields a command
changes, the configuration they give, and the server's limits on it (checked from the
plan's sizes alone, before anything is built)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Final

from pydantic import ValidationError

from allocator_model import ModelError
from allocator_model.sources.source import ScenarioNotFound, SourceError
from allocator_model.sources.workload import max_step_blocks

from . import protocol as p
from .settings import CommandError, Settings
from .sources import TEXT_FIELDS, Plan, SessionConfig, StepBudget, plan_for

#: The fields that say where a session comes from: a new one starts it over.
SOURCE_KEYS: Final = ("scenario", *TEXT_FIELDS)


def configure_changes(cmd: p.Configure) -> dict[str, Any]:
    """The fields a ``configure`` command sets."""
    return cmd.model_dump(exclude={"type", "id", "session"}, exclude_none=True, exclude_unset=True)


def merge_config(old: SessionConfig, changes: dict[str, Any]) -> SessionConfig:
    """``old`` with ``changes`` applied as ``configure`` applies them; raises
    ``CommandError`` (``invalid_config``) for a combination that is not a configuration."""
    if any(k in changes and changes[k] != getattr(old, k) for k in SOURCE_KEYS):
        # A new source (scenario or text) starts over: nothing of the old one is kept.
        base: dict[str, Any] = {k: changes[k] for k in SOURCE_KEYS if k in changes}
    else:
        base = old.model_dump()
        if "hinting" in changes and changes["hinting"] != old.hinting:
            base["constants"] = {}
    base.update(changes)
    if "constants" in changes:
        base["constants"] = {
            **(old.constants if "hinting" not in changes else {}),
            **changes["constants"],
        }
    try:
        return SessionConfig.model_validate(base)
    except ValidationError as exc:
        err = exc.errors()[0]
        message = str(err["msg"]).removeprefix("Value error, ")
        raise CommandError("invalid_config", message) from None


def plan_from_config(config: SessionConfig, settings: Settings) -> Plan:
    """Resolve a configuration and check it against the server's limits (parses a
    source text: call it in a worker thread for big ones)."""
    try:
        plan = plan_for(config, settings.max_timeline_steps)
    except ScenarioNotFound as exc:
        raise CommandError("invalid_config", str(exc)) from None
    except SourceError as exc:
        what = {"workload": "workload file", "trace": "trace"}.get(exc.field, exc.field)
        n = len(exc.problems)
        raise CommandError(
            "invalid_file",
            f"the {what} cannot be loaded ({n} problem{'s' if n != 1 else ''}): "
            + "; ".join(exc.problems[:3])
            + ("; ..." if n > 3 else ""),
            http_status=422,
            problems=exc.problems,
            field=exc.field,
        ) from None
    except (ModelError, ValueError) as exc:
        raise CommandError("invalid_config", str(exc)) from None
    check_size(plan, settings)
    return replace(plan, budget=StepBudget(settings.max_step_events, settings.max_step_seconds))


def check_size(plan: Plan, settings: Settings) -> None:
    """Refuse a plan over the server's limits, from its sizes alone (nothing is built)."""
    s = settings
    sizes = plan.source.sizes()
    if len(sizes) > s.max_zones:
        raise CommandError(
            "limit", f"{len(sizes)} zones; this server allows at most {s.max_zones} per session"
        )
    for name, pages in sizes:
        if plan.source.start is None and pages > s.max_pages_per_zone:
            raise CommandError(
                "limit",
                f"zone {name} would have {pages} pages; this server allows at most "
                f"{s.max_pages_per_zone} per zone",
            )
    total = sum(pages for _, pages in sizes)
    if total > s.max_pages_per_session:
        raise CommandError(
            "limit",
            f"the zones would have {total} pages together; this server allows at most "
            f"{s.max_pages_per_session} per session",
        )
    index, blocks = max_step_blocks(list(plan.source.workload))
    if blocks > s.max_step_blocks:
        raise CommandError(
            "limit",
            f"workload operation {index} would allocate, free or touch up to {blocks} blocks "
            f"in one step; this server allows {s.max_step_blocks} per step: split it into "
            "steps (smaller counts, or a repeat)",
        )
