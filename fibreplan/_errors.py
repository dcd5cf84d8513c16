"""Exception classes raised by fibreplan.

Every error a user can cause is an :class:`InputValidationError` (a
``ValueError``) whose message names the argument, the allowed values and the
fix. Problems that no input change inside the current options can solve are
:class:`InfeasibleDesignError`.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "CRSError",
    "CostFileError",
    "DisconnectedTerminalsError",
    "FibreplanError",
    "InfeasibleDesignError",
    "InputValidationError",
]


class FibreplanError(Exception):
    """Base class of every exception raised on purpose by fibreplan."""


class InputValidationError(FibreplanError, ValueError):
    """An input (file, GeoDataFrame, argument) is malformed or out of range."""


class CRSError(InputValidationError):
    """A coordinate reference system is missing, geographic where metres are needed, or unknown."""


class CostFileError(InputValidationError):
    """A cost book or design-rules file (TOML) is malformed or has invalid values."""


class InfeasibleDesignError(FibreplanError):
    """The requested design cannot be built; ``unreachable`` holds the IDs that cause it.

    Parameters
    ----------
    msg : str
        Human-readable explanation.
    unreachable : Iterable of object, optional
        IDs (premises IDs or terminal node indices) that cannot be served.
    """

    def __init__(self, msg: str, *, unreachable: Iterable[object] = ()) -> None:
        super().__init__(msg)
        self.unreachable = list(unreachable)


class DisconnectedTerminalsError(InfeasibleDesignError):
    """Terminals of a Steiner tree problem lie in different connected components.

    ``unreachable`` lists the terminals outside the component of the first
    terminal (the root).
    """
