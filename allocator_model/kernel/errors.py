"""Exceptions the model raises.

Every error is raised *before* the model changes anything, so a caller can catch it
and carry on with the node exactly as it was.  Messages are written for a student
reading them in the dashboard, not for a kernel developer reading a stack trace.
"""

from __future__ import annotations


class ModelError(Exception):
    """Base class of every error the model raises on purpose."""


class ConfigError(ModelError, ValueError):
    """An impossible configuration (zone layout, orders, kernel version, strategy)."""


class UnknownZone(ModelError, KeyError):
    """A zone name that this node does not have."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else "unknown zone"


class UnknownMigratetype(ModelError, ValueError):
    """A migratetype name that this configuration does not have, or cannot be used here."""


class OutOfMemory(ModelError):
    """No zone on the zonelist could satisfy an allocation.

    ``reasons`` holds one sentence per zone that was tried, in zonelist order.
    """

    def __init__(self, message: str, reasons: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.reasons = reasons


class InvalidFree(ModelError, ValueError):
    """A free that the kernel would BUG() on or silently corrupt memory with."""


class InvariantViolation(ModelError, AssertionError):
    """``Node.check()`` found a broken rule; ``rule`` names it (spec §5 numbering)."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"invariant {rule}: {message}")
        self.rule = rule
