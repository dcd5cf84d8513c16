"""Kinds of trench-graph edge, declared once for the trench, cost and output stages.

The values are the ``kind`` column of the ``trenches`` layer (an output
contract): never rename one.
"""

from __future__ import annotations

import enum

import numpy as np
import numpy.typing as npt

__all__ = ["NOT_DUG", "EdgeKind", "is_dug"]


class EdgeKind(enum.StrEnum):
    """How a trench-graph edge carries the fibre."""

    #: New trench dug along a street stretch.
    DIG = "dig"
    #: An existing duct with spare capacity, rented.
    DUCT_REUSE = "duct_reuse"
    #: Aerial cable on existing poles.
    AERIAL = "aerial"
    #: A trench across a two-sided road (dug, plus the crossing's own cost).
    CROSSING = "crossing"


#: Kinds that need no new trench (the rest are dug).
NOT_DUG: tuple[str, ...] = (EdgeKind.DUCT_REUSE.value, EdgeKind.AERIAL.value)


def is_dug(kind: npt.NDArray[np.str_]) -> npt.NDArray[np.bool_]:
    """Return whether each edge of ``kind`` is newly dug (``dig`` or ``crossing``).

    Parameters
    ----------
    kind : numpy.ndarray of str
        Edge kinds (values of :class:`EdgeKind`).

    Returns
    -------
    numpy.ndarray of bool
        True where the edge is dug.

    Examples
    --------
    >>> import numpy as np
    >>> is_dug(np.array(["dig", "duct_reuse", "aerial", "crossing"])).tolist()
    [True, False, False, True]
    """
    return ~np.isin(kind, NOT_DUG)
