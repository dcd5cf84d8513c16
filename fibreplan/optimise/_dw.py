"""Exact Steiner trees for a few terminals: the Dreyfus-Wagner dynamic programme.

With ``k`` terminals it costs ``2^(k-1)`` shortest-path searches and
``3^(k-1) / 2`` vector minima over the nodes, so it is cheaper than the
heuristic's search for ``k`` up to about six, where the dual-ascent bound is
often a unit or two loose (SteinLib c16: 5 terminals, optimum 11, bound 11,
and the heuristic's tree 12 on some node orders).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse import csgraph

__all__ = ["dreyfus_wagner"]

#: scipy's predecessor of a search's source and of unreached nodes.
_NO_PRED = -9999


def _splits(
    f: npt.NDArray[np.float64], S: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Cheapest way to join the two parts of ``S`` at each node, and the part chosen."""
    low = S & -S
    g = np.full(f.shape[1], np.inf)
    arg = np.full(f.shape[1], -1, dtype=np.int64)
    sub = (S - 1) & S
    while sub:
        if sub & low:  # each split once: the part holding S's lowest terminal
            c = f[sub] + f[S ^ sub]
            better = c < g
            g[better] = c[better]
            arg[better] = sub
        sub = (sub - 1) & S
    return g, arg


def dreyfus_wagner(A: sp.csr_array, terminals: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    r"""Node set of a minimum Steiner tree, by Dreyfus and Wagner's recursion.

    Parameters
    ----------
    A : scipy.sparse.csr_array, shape (n, n)
        Symmetric adjacency, weights > 0 in any unit (metres, GBP).
    terminals : numpy.ndarray of int64
        At least two distinct terminals, all in one connected component.

    Returns
    -------
    numpy.ndarray of bool, shape (n,)
        The nodes of a minimum Steiner tree: every minimum spanning tree of
        the subgraph they induce is one (its weight cannot exceed the
        optimum, which it spans).

    Notes
    -----
    With the last terminal ``q`` as the root and ``T' = T - {q}``,
    ``f(S, v)`` is the weight of a minimum tree spanning ``S`` (a subset
    of ``T'``) and the node ``v``: ``f({t}, v)`` is the distance from ``t``;
    otherwise ``g(S, v) = min f(S1, v) + f(S - S1, v)`` over the splits of
    ``S``, and ``f(S, v) = min_u g(S, u) + d(u, v)``, one Dijkstra search
    from a super source joined to every ``u`` by an arc of weight
    ``g(S, u)`` [1]_. The optimum is ``f(T', q)``; the tree is read back
    through the searches' predecessors and the chosen splits. Time
    :math:`O(3^{k-1} n + 2^{k-1} (m + n) \log n)`, memory
    :math:`O(2^{k-1} n)`, for ``k`` terminals.

    References
    ----------
    .. [1] S. E. Dreyfus and R. A. Wagner, "The Steiner problem in graphs",
       Networks 1(3):195-207, 1971. doi:10.1002/net.3230010302
    """
    n = A.shape[0]
    t = np.asarray(terminals, dtype=np.int64)
    q = int(t[-1])
    k = t.size - 1
    full = (1 << k) - 1
    f = np.empty((full + 1, n))
    pred = np.empty((full + 1, n), dtype=np.int64)
    split = np.full((full + 1, n), -1, dtype=np.int64)
    d, p = csgraph.dijkstra(A, indices=t[:-1], return_predecessors=True)
    for i in range(k):
        f[1 << i], pred[1 << i] = d[i], p[i]
    # the graph plus a super source (node n) with an arc to every node
    nnz = A.indptr[-1]
    indptr = np.r_[A.indptr.astype(np.int64), nnz + n]
    indices = np.r_[A.indices.astype(np.int64), np.arange(n, dtype=np.int64)]
    data = np.r_[A.data.astype(np.float64), np.ones(n)]
    big = np.finfo(np.float64).max / 4  # stands for "unreachable" (another component)
    for S in range(3, full + 1):
        if S & (S - 1) == 0:  # a single terminal: done above
            continue
        g, split[S] = _splits(f, S)
        data[nnz:] = np.where(np.isfinite(g), g, big)
        G = sp.csr_array((data, indices, indptr), shape=(n + 1, n + 1))
        d, p = csgraph.dijkstra(G, indices=n, return_predecessors=True)
        f[S], pred[S] = d[:n], p[:n]
    nodes = np.zeros(n, dtype=np.bool_)
    stack = [(full, q)]
    while stack:
        S, v = stack.pop()
        nodes[v] = True
        u = int(pred[S, v])
        while u not in (_NO_PRED, n):  # along a shortest path
            v = u
            nodes[v] = True
            u = int(pred[S, v])
        if u == n:  # the subtrees of a split meet at v
            a = int(split[S, v])
            stack += [(a, v), (S ^ a, v)]
    return nodes
