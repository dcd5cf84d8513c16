"""Lower bounds for the Steiner tree problem: Wong's dual ascent.

The Steiner tree problem on an undirected graph equals the Steiner
arborescence problem on its bidirected graph rooted at any terminal ``r``.
The dual of the directed-cut LP relaxation has one variable ``y_W >= 0`` per
Steiner cut ``W`` (``r`` not in ``W``, some terminal in ``W``); any feasible
dual solution gives the valid lower bound ``sum(y_W)``. Dual ascent raises
one ``y_W`` at a time, ``W`` being the set of nodes that reach an active
terminal through arcs of reduced cost zero. The ascent itself is the
compiled kernel of :mod:`fibreplan.optimise._jit` (a plain Python version
lives in the tests as its oracle); this module gives it a CSR interface and
uses its reduced costs to delete edges (reduced-cost fixing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse import csgraph

__all__ = ["DualAscent", "dual_ascent", "dual_ascent_cuts", "reduced_cost_fixing"]

logger = logging.getLogger(__name__)

#: Relative slack protecting the fixing test against float round-off.
_REL_TOL = 1e-9


@dataclass(frozen=True)
class DualAscent:
    """Result of :func:`dual_ascent`.

    Attributes
    ----------
    lower_bound : float
        Valid lower bound on the minimum Steiner tree weight.
    root : int
        Root terminal of the bidirected formulation.
    reduced : scipy.sparse.csr_array
        Reduced arc costs: entry ``(u, v)`` is the reduced cost of arc ``u -> v``
        (explicit zeros are saturated arcs); same sparsity as the input.
    """

    lower_bound: float
    root: int
    reduced: sp.csr_array


def _reverse_index(A: sp.csr_array) -> npt.NDArray[np.int64]:
    """Position of entry ``(v, u)`` for every stored entry ``(u, v)`` of symmetric ``A``."""
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    cols = A.indices.astype(np.int64)
    # entries sorted by (col, row) line up with entries sorted by (row, col) transposed
    order = np.lexsort((rows, cols))
    rev = np.empty(rows.size, dtype=np.int64)
    rev[np.arange(rows.size)] = order
    return rev


def dual_ascent(
    A: sp.csr_array,
    terminals: npt.NDArray[np.int64],
    *,
    root: int | None = None,
    max_steps: int = -1,
) -> DualAscent:
    """Compute Wong's dual-ascent lower bound for a Steiner tree instance.

    Parameters
    ----------
    A : scipy.sparse.csr_array
        Canonical symmetric adjacency, every weight > 0 (units of the
        input, e.g. metres or GBP).
    terminals : numpy.ndarray of int64
        Distinct terminals in one connected component.
    root : int, optional
        Root terminal; default the terminal of largest degree.
    max_steps : int, default -1
        Stop after this many cut raises (< 0: no limit). The dual solution is
        feasible after every step, so the bound is valid, only weaker; a step
        count (not a clock) keeps the result a function of the input.

    Returns
    -------
    DualAscent
        Lower bound, root and reduced arc costs.

    Notes
    -----
    Runs the compiled kernel :func:`fibreplan.optimise._jit.dual_ascent` on
    the arrays of ``A`` (loading numba on first use). Guarantee: the bound is
    the objective of a feasible solution of the dual of the directed-cut LP,
    hence ``lower_bound <= LP optimum <= optimum``. The active terminal of
    smallest current cut is grown first; a terminal stops when its
    zero-reduced-cost ancestor set contains the root or another active
    terminal (Wong's rule). Each step saturates at least one arc, so there
    are at most ``2m`` steps of O(m) each: O(m^2) worst case, far less in
    practice.

    References
    ----------
    .. [1] R. T. Wong, "A dual ascent approach for Steiner tree problems on a
       directed graph", Math. Programming 28:271-287, 1984,
       doi:10.1007/BF02612335.
    .. [2] T. Polzin, S. V. Daneshmand, "Improved algorithms for the Steiner
       problem in networks", Discrete Appl. Math. 112:263-300, 2001,
       doi:10.1016/S0166-218X(00)00319-X.
    """
    t = np.asarray(terminals, dtype=np.int64)
    deg = np.diff(A.indptr)
    if root is None:
        root = int(t[np.argmax(deg[t])]) if t.size else 0
    if t.size <= 1:
        return DualAscent(0.0, root, A.copy())
    lb, rc, steps = _ascent_arrays(A, t, root, max_steps=max_steps)
    reduced = sp.csr_array((rc, A.indices.copy(), A.indptr.copy()), shape=A.shape)
    logger.debug("dual ascent: bound %.6g after %d steps (root %d)", lb, steps, root)
    return DualAscent(float(lb), int(root), reduced)


def _ascent_arrays(
    A: sp.csr_array, t: npt.NDArray[np.int64], root: int, *, max_steps: int = -1
) -> tuple[float, npt.NDArray[np.float64], int]:
    """Run the compiled ascent on ``A``: bound, reduced cost of every arc, steps taken."""
    from fibreplan.optimise import _jit  # numba only when a bound is asked for

    return _jit.dual_ascent(
        A.indptr.astype(np.int64),
        A.indices.astype(np.int64),
        _reverse_index(A),
        A.data.astype(np.float64),
        t,
        root,
        max_steps,
    )


def dual_ascent_cuts(
    A: sp.csr_array, terminals: npt.NDArray[np.int64], *, root: int, max_steps: int
) -> list[npt.NDArray[np.int64]]:
    """Return the cuts Wong's dual ascent raises, in order (arc positions of ``A``).

    Parameters
    ----------
    A : scipy.sparse.csr_array
        Canonical symmetric adjacency, every weight > 0.
    terminals : numpy.ndarray of int64
        Distinct terminals in one connected component.
    root : int
        Root terminal.
    max_steps : int
        Recover the cuts of the first ``max_steps`` steps at most.

    Returns
    -------
    list of numpy.ndarray of int64
        For each step, the stored-entry positions of ``A`` of the arcs
        entering the raised set ``W`` -- the initial rows of a cut LP (as in
        SCIP-Jack).

    Notes
    -----
    The compiled ascent is deterministic and its first ``k`` steps do not
    depend on when it stops, so it is run with ``max_steps = 1, 2, ...`` and
    step ``k``'s cut is the set of arcs whose reduced cost step ``k`` lowered.
    O(max_steps^2) ascent steps in compiled code: a few milliseconds for
    the hundreds of steps of a SteinLib C instance.
    """
    from fibreplan.optimise import _jit

    arrays = (A.indptr.astype(np.int64), A.indices.astype(np.int64), _reverse_index(A))
    w = A.data.astype(np.float64)
    t = np.asarray(terminals, dtype=np.int64)
    cuts: list[npt.NDArray[np.int64]] = []
    before = w
    for k in range(1, max_steps + 1):
        _, rc, steps = _jit.dual_ascent(*arrays, w, t, root, k)
        if steps < k:  # the ascent ended
            break
        cuts.append(np.flatnonzero(rc < before))
        before = rc
    return cuts


def reduced_cost_fixing(
    A: sp.csr_array,
    terminals: npt.NDArray[np.int64],
    da: DualAscent,
    upper_bound: float,
) -> tuple[sp.csr_array, int]:
    """Delete edges and nodes whose reduced-cost bound exceeds an upper bound.

    Parameters
    ----------
    A : scipy.sparse.csr_array
        The adjacency :func:`dual_ascent` ran on.
    terminals : numpy.ndarray of int64
        Its terminals.
    da : DualAscent
        Dual-ascent result on ``A``.
    upper_bound : float
        Weight of a known Steiner tree (same units as ``A``).

    Returns
    -------
    A_fixed : scipy.sparse.csr_array
        ``A`` without the deleted edges (same shape).
    removed : int
        Number of undirected edges deleted.

    Notes
    -----
    Any arborescence through arc ``u -> v`` costs at least
    ``LB + d_r(u) + c~(u, v) + d_T(v)`` with reduced costs ``c~``, ``d_r`` the
    reduced distance from the root and ``d_T`` the reduced distance to the
    nearest terminal; an edge whose both arcs exceed ``upper_bound`` (strictly,
    with a 1e-9 relative margin) is in no minimum tree; likewise a non-terminal
    node with ``LB + d_r(v) + d_T(v) > upper_bound``. Cost: two Dijkstra runs,
    O(m + n log n).

    References
    ----------
    .. [1] C. W. Duin, A. Volgenant, "Reduction tests for the Steiner problem in
       graphs", Networks 19(5):549-567, 1989, doi:10.1002/net.3230190506.
    .. [2] T. Polzin, S. V. Daneshmand, "Improved algorithms for the Steiner
       problem in networks", Discrete Appl. Math. 112:263-300, 2001,
       doi:10.1016/S0166-218X(00)00319-X.
    """
    R = da.reduced
    d_root = csgraph.dijkstra(R, directed=True, indices=da.root)
    d_term = csgraph.dijkstra(R.T.tocsr(), directed=True, indices=terminals, min_only=True)
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    cols = A.indices
    slack = upper_bound * (1.0 + _REL_TOL) + 1e-9
    arc_lb = da.lower_bound + d_root[rows] + R.data + d_term[cols]
    node_lb = da.lower_bound + d_root + d_term
    is_term = np.zeros(A.shape[0], dtype=bool)
    is_term[terminals] = True
    dead_node = (node_lb > slack) & ~is_term
    arc_dead = (arc_lb > slack) | dead_node[rows] | dead_node[cols]
    # an edge dies only when both of its arcs do
    rev = _reverse_index(A)
    edge_dead = arc_dead & arc_dead[rev]
    keep = ~edge_dead
    kept = sp.csr_array((A.data[keep], (rows[keep], cols[keep])), shape=A.shape)
    kept.sort_indices()
    return kept, int(edge_dead.sum() // 2)
