"""Canonical graph form shared by every optimiser routine.

Conventions (fixed once, as ``scipy.sparse.csgraph`` does):

* A graph on ``n`` nodes is the symmetric ``scipy.sparse.csr_array`` of
  :func:`fibreplan._csr.canonical_csr`: float64, sorted indices, empty
  diagonal, stored entries are the edge weights, finite and ``>= 0`` (a
  stored zero is a zero-weight edge). The solvers themselves (reductions,
  compiled heuristic, dual ascent, branch-and-cut) see strictly positive
  weights only: zero-weight edges are contracted first
  (:mod:`fibreplan.optimise._zero`).
* A tree (or any edge set) is an ``(k, 2)`` int64 array of node pairs with
  ``u < v`` in each row, rows sorted lexicographically.
* Terminals are a 1-D int64 array of distinct node indices.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse import csgraph

from fibreplan._csr import canonical_csr
from fibreplan._errors import DisconnectedTerminalsError
from fibreplan._errors import InputValidationError

__all__ = [
    "canonical_csr",
    "canonical_edges",
    "check_terminals",
    "is_steiner_tree",
    "prune_nonterminal_leaves",
    "tree_cost",
]


def canonical_edges(edges: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Return an edge list as a sorted ``(k, 2)`` int64 array with ``u < v`` per row.

    Parameters
    ----------
    edges : array-like, shape (k, 2)
        Node pairs in any order.

    Returns
    -------
    numpy.ndarray
        Canonical, de-duplicated edge array.
    """
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    e = np.sort(e, axis=1)
    if e.shape[0] == 0:
        return e
    # one int64 key per pair: a 1-D unique is far faster than unique(axis=0)
    m = int(e.max()) + 1
    keys = np.unique(e[:, 0] * m + e[:, 1])
    return np.column_stack([keys // m, keys % m])


def _edge_weights(A: sp.csr_array, e: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Weights of the node pairs ``e`` in ``A`` (NaN where a pair is not an edge).

    One binary search per pair in the row-major keys of the stored entries;
    far cheaper than sparse fancy indexing on small edge sets.
    """
    if not A.has_sorted_indices:
        A = A.sorted_indices()
    if A.nnz == 0:
        return np.full(e.shape[0], np.nan)
    n = A.shape[0]
    keys = np.repeat(np.arange(n, dtype=np.int64), np.diff(A.indptr)) * n + A.indices
    want = e[:, 0] * n + e[:, 1]
    pos = np.minimum(np.searchsorted(keys, want), keys.size - 1)
    return np.where(keys[pos] == want, A.data[pos], np.nan)


def tree_cost(A: sp.csr_array, edges: npt.ArrayLike) -> float:
    """Return the total weight of an edge set, read from the adjacency ``A``.

    Parameters
    ----------
    A : scipy.sparse.csr_array
        Canonical adjacency (see module docstring).
    edges : array-like, shape (k, 2)
        Node pairs; each must be an edge of ``A``.

    Returns
    -------
    float
        Sum of the weights.

    Raises
    ------
    InputValidationError
        If a pair is not an edge of ``A``.
    """
    e = canonical_edges(edges)
    if e.shape[0] == 0:
        return 0.0
    w = _edge_weights(A, e)
    if np.isnan(w).any():
        msg = "tree contains a node pair that is not an edge of the graph."
        raise InputValidationError(msg)
    return float(w.sum())


def check_terminals(A: sp.csr_array, terminals: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Validate terminals and check they share one connected component.

    Parameters
    ----------
    A : scipy.sparse.csr_array
        Canonical adjacency.
    terminals : array-like of int
        Terminal node indices (duplicates are removed, order kept).

    Returns
    -------
    numpy.ndarray
        Distinct terminals, int64, in first-seen order.

    Raises
    ------
    InputValidationError
        If a terminal index is out of range or there is no terminal.
    DisconnectedTerminalsError
        If some terminals are not in the component of the first one;
        ``err.unreachable`` lists them.
    """
    t = np.asarray(terminals, dtype=np.int64).ravel()
    n = A.shape[0]
    if t.size == 0:
        msg = "terminals must hold at least one node index."
        raise InputValidationError(msg)
    if t.min() < 0 or t.max() >= n:
        msg = f"terminal indices must lie in [0, {n}); got min={t.min()}, max={t.max()}."
        raise InputValidationError(msg)
    _, first = np.unique(t, return_index=True)
    t = t[np.sort(first)]
    _, labels = csgraph.connected_components(A, directed=False)
    away = t[labels[t] != labels[t[0]]]
    if away.size:
        msg = (
            f"{away.size} of {t.size} terminals are not connected to terminal {t[0]} "
            f"(first few: {away[:10].tolist()})."
        )
        raise DisconnectedTerminalsError(msg, unreachable=away.tolist())
    return t


def is_steiner_tree(
    A: sp.csr_array, edges: npt.ArrayLike, terminals: npt.ArrayLike
) -> tuple[bool, str]:
    """Check that ``edges`` is a tree of ``A`` spanning every terminal.

    Parameters
    ----------
    A : scipy.sparse.csr_array
        Canonical adjacency.
    edges : array-like, shape (k, 2)
        Candidate tree.
    terminals : array-like of int
        Terminal node indices.

    Returns
    -------
    ok : bool
        Whether the edge set is a valid Steiner tree.
    reason : str
        Empty when ``ok``, else what is wrong.
    """
    t = np.unique(np.asarray(terminals, dtype=np.int64))
    e = canonical_edges(edges)
    if e.shape[0] == 0:
        return (t.size <= 1, "" if t.size <= 1 else "no edges but several terminals")
    w = _edge_weights(A, e)
    if np.isnan(w).any():
        return False, "a tree edge is not an edge of the graph"
    nodes = np.unique(e)
    if e.shape[0] != nodes.size - 1:
        return False, f"{e.shape[0]} edges on {nodes.size} nodes is not a tree"
    index = np.searchsorted(nodes, e)
    sub = sp.coo_array(
        (np.ones(e.shape[0]), (index[:, 0], index[:, 1])), shape=(nodes.size, nodes.size)
    )
    ncomp, _ = csgraph.connected_components(sub, directed=False)
    if ncomp != 1:
        return False, f"edge set has {ncomp} components"
    missing = np.setdiff1d(t, nodes)
    if missing.size:
        return False, f"terminals not spanned: {missing[:10].tolist()}"
    return True, ""


def prune_nonterminal_leaves(
    edges: npt.NDArray[np.int64], is_term: npt.NDArray[np.bool_]
) -> npt.NDArray[np.int64]:
    """Remove non-terminal leaves of a tree until every leaf is a terminal.

    Parameters
    ----------
    edges : numpy.ndarray of int64, shape (k, 2)
        Edges of a tree (any orientation).
    is_term : numpy.ndarray of bool, shape (n,)
        Terminal mask over the node indices.

    Returns
    -------
    numpy.ndarray of int64, shape (k', 2)
        The edges on paths between terminals (empty when at most one
        terminal lies on the tree), in the input's order.

    Notes
    -----
    Roots the tree at a terminal and keeps the edge above every node whose
    subtree holds a terminal: one breadth-first search and one pass, O(k).
    """
    if edges.shape[0] == 0:
        return edges
    nodes, inv = np.unique(edges, return_inverse=True)
    inv = inv.reshape(-1, 2)
    k = nodes.size
    term = is_term[nodes]
    if not term.any():
        return edges[:0]
    tree = sp.coo_array((np.ones(inv.shape[0]), (inv[:, 0], inv[:, 1])), shape=(k, k)).tocsr()
    order, pred = csgraph.breadth_first_order(tree, int(np.argmax(term)), directed=False)
    below = term.astype(np.int64)
    for v in order[:0:-1].tolist():  # leaves first; the root has no parent
        below[pred[v]] += below[v]
    child = np.where(pred[inv[:, 0]] == inv[:, 1], inv[:, 0], inv[:, 1])
    return edges[below[child] > 0]
