"""The hook interface between the buddy allocator and hinting/reporting.

The zone calls a strategy exactly where the kernel calls into ``page_hinting`` (the
2019 v2 design) or ``page_reporting`` (as merged in 5.7):

* ``clear_flag`` when a flagged (hinted/reported) block leaves its free list through
  ``del_page_from_free_list`` (allocation, merge, isolation);
* ``on_move`` when a flagged block changes list in ``move_to_free_list``;
* ``notify_free`` at the end of a normal ``__free_one_page`` whose final order is at
  least ``zone.notify_order``;
* ``zone.tail_anchor`` replaces the list sentinel as the tail insertion point (v2's
  ``get_unhinted_tail``) while a strategy needs that;
* work it schedules on the node's virtual clock.

The zone never calls a hook it does not need: ``notify_order`` stays out of range and
``tail_anchor`` stays ``None`` unless a strategy sets them, so ``"none"`` costs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

from . import events as ev
from .errors import ConfigError
from .pagestate import PS_FLAGGED

if TYPE_CHECKING:
    from .node import Node
    from .zone import Zone

C = TypeVar("C")


class Strategy:
    """Base class and the ``"none"`` strategy: no device, nothing is ever flagged."""

    name = "none"

    def attach(self, node: Node) -> None:
        """Called once the zones are booted: the device registers here."""

    def clear_flag(self, zone: Zone, i: int, order: int, reason: str) -> None:
        raise AssertionError(f"{self.name}: no block should carry a flag")

    def on_move(self, zone: Zone, i: int, order: int, from_mt: int, to_mt: int) -> None:
        raise AssertionError(f"{self.name}: no block should carry a flag")

    def notify_free(self, zone: Zone, order: int) -> None:
        raise AssertionError(f"{self.name}: notify hook is disabled")

    def in_flight(self, zone: Zone) -> list[tuple[int, int]]:
        """Blocks isolated from ``zone``'s free lists right now: (index, order)."""
        return []

    def check(self, node: Node) -> None:
        """Strategy invariants; raise InvariantViolation."""
        for zone in node.zones:
            if any(zone.flags):
                from .errors import InvariantViolation

                raise InvariantViolation("13/25", f"zone {zone.name} has flagged blocks")

    def state(self) -> dict[str, Any]:
        return {"strategy": self.name}


def constants_table(constants: Any, kernel: Any, resolved: dict[str, Any]) -> list[dict[str, Any]]:
    """Each constant with its value, the kernel's value and whether they are equal.

    ``resolved`` fills in defaults that depend on the node (``None`` = pageblock_order).
    """
    rows = []
    for f in fields(constants):
        value = getattr(constants, f.name)
        default = getattr(kernel, f.name)
        if value is None:
            value = resolved[f.name]
        if default is None:
            default = resolved[f.name]
        rows.append(
            {
                "name": f.name,
                "value": value,
                "kernel": default,
                "is_kernel": value == default,
                "modelled": f.name == "report_latency_s",
            }
        )
    return rows


def make_constants(cls: type[C], options: Mapping[str, Any], strategy: str, max_order: int) -> C:
    """Build a strategy's constants dataclass from user options, checking each value.

    The field's annotation says what it is: ``int | None`` an order (None = the node's
    pageblock_order), ``int`` a count >= 1, ``float`` a number of seconds >= 0.
    """
    kinds = {f.name: str(f.type) for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(options) - set(kinds))
    if unknown:
        raise ConfigError(
            f"unknown {strategy} option(s) {', '.join(unknown)}: choose from "
            + ", ".join(sorted(kinds))
        )
    for name, value in options.items():
        kind = kinds[name]
        is_int = isinstance(value, int) and not isinstance(value, bool)
        if kind == "int | None" and value is not None and not (is_int and 0 <= value < max_order):
            raise ConfigError(f"{name} must be an order 0..{max_order - 1}, got {value!r}")
        if kind == "int" and not (is_int and value >= 1):
            raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
        if kind == "float" and (
            isinstance(value, bool) or not isinstance(value, int | float) or value < 0
        ):
            raise ConfigError(f"{name} must be a number of seconds >= 0, got {value!r}")
    return cls(**options)


def put_back(
    node: Node, zone: Zone, i: int, order: int, mt: int, fn: str, to_tail: bool, tail_reason: str
) -> tuple[int, int, bool]:
    """Return a block from the host (no notify); (final pfn, final order, still whole).

    "Still whole" means the block did not merge: it is still a free block of its order,
    the condition both designs test before marking it hinted/reported.
    """
    pfn = zone.start_pfn + i
    if node.events is not None:
        node.events.append(
            ev.Putback(fn=fn, zone=zone.name, pfn=pfn, order=order, migratetype=zone.mt_name(mt))
        )
    head, final = zone.free_one_page(
        pfn, order, mt, to_tail=to_tail, notify=False, tail_reason=tail_reason
    )
    return head, final, zone.buddy_order[i] == order + 1


def mark_flagged(node: Node, zone: Zone, i: int, order: int, mt: int, fn: str, flag: str) -> None:
    """Set the strategy's flag on a free block head and colour its frames."""
    zone.flag_block(i, order)
    zone.paint(i, order, PS_FLAGGED)
    if node.events is not None:
        node.events.append(
            ev.FlagSet(
                fn=fn,
                zone=zone.name,
                pfn=zone.start_pfn + i,
                order=order,
                migratetype=zone.mt_name(mt),
                flag=flag,
            )
        )
