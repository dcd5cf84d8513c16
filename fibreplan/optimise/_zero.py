"""Zero-weight edges: contract them before solving, expand the tree after.

The solvers (reductions, compiled heuristic, dual ascent, branch-and-cut)
need strictly positive weights. Nodes joined by a path of zero-weight edges
cost nothing to connect, so each such group is merged into one super-node
(union-find, here the connected components of the zero edges); the
positive edges between groups keep the cheapest per pair of groups. A
minimum Steiner tree of the contracted graph has the optimum's cost, and
maps back to a tree of the original graph of the same cost: its edges, a
spanning tree of the zero edges inside every group it touches, and the
removal of non-terminal leaves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse import csgraph

from fibreplan._csr import canonical_csr
from fibreplan.optimise._graph import canonical_edges
from fibreplan.optimise._graph import prune_nonterminal_leaves

__all__ = ["Contraction", "contract_zero_edges"]


@dataclass(frozen=True)
class Contraction:
    """A graph with its zero-weight edges contracted, and the map back.

    Attributes
    ----------
    A : scipy.sparse.csr_array
        Canonical adjacency on the super-nodes; every weight > 0.
    terminals : numpy.ndarray of int64
        Distinct super-nodes holding a terminal.
    label : numpy.ndarray of int64, shape (n,)
        Super-node of every original node.
    """

    A: sp.csr_array
    terminals: npt.NDArray[np.int64]
    label: npt.NDArray[np.int64]
    _orig_terminals: npt.NDArray[np.int64]
    _keys: npt.NDArray[np.int64]  # sorted a * k + b (a < b) of the contracted edges
    _orig: npt.NDArray[np.int64]  # original edge (u, v) behind each key
    _zero_forest: npt.NDArray[np.int64]  # a spanning forest of the zero edges

    def expand(self, edges: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Map a Steiner tree of :attr:`A` to an original tree of the same cost.

        Parameters
        ----------
        edges : array-like, shape (k, 2)
            Tree of the contracted graph spanning :attr:`terminals`.

        Returns
        -------
        numpy.ndarray of int64, shape (k', 2)
            Canonical original edges: the tree's edges, the zero edges that
            join them inside each super-node, non-terminal leaves pruned.
        """
        e = canonical_edges(edges)
        k = self.A.shape[0]
        orig = self._orig[np.searchsorted(self._keys, e[:, 0] * k + e[:, 1])]
        touched = np.zeros(k, dtype=bool)
        touched[e.ravel()] = True
        touched[self.terminals] = True
        zero = self._zero_forest[touched[self.label[self._zero_forest[:, 0]]]]
        is_term = np.zeros(self.label.size, dtype=bool)
        is_term[self._orig_terminals] = True
        tree = np.concatenate([orig.reshape(-1, 2), zero])
        return canonical_edges(prune_nonterminal_leaves(tree, is_term))


def contract_zero_edges(A: sp.csr_array, terminals: npt.NDArray[np.int64]) -> Contraction:
    """Merge the nodes joined by zero-weight edges of a canonical adjacency.

    Parameters
    ----------
    A : scipy.sparse.csr_array
        Canonical adjacency (:func:`fibreplan._csr.canonical_csr`), stored
        zeros being zero-weight edges.
    terminals : numpy.ndarray of int64
        Distinct terminals.

    Returns
    -------
    Contraction
        The contracted instance (weights > 0) and the map back.

    Notes
    -----
    O(m log m): connected components of the zero edges, one sort to keep
    the cheapest edge between two super-nodes, one spanning forest.
    """
    n = A.shape[0]
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(A.indptr))
    cols = A.indices.astype(np.int64)
    upper = rows < cols
    u, v, w = rows[upper], cols[upper], A.data[upper]
    z = w == 0
    Z = sp.coo_array((np.ones(int(z.sum())), (u[z], v[z])), shape=(n, n))
    _, label = csgraph.connected_components(Z, directed=False)
    label = label.astype(np.int64)
    forest = sp.coo_array(csgraph.minimum_spanning_tree(Z))
    zero_forest = np.column_stack([forest.row, forest.col]).astype(np.int64)
    k = int(label.max()) + 1 if n else 0
    a, b = label[u[~z]], label[v[~z]]
    lo, hi, wp = np.minimum(a, b), np.maximum(a, b), w[~z]
    between = lo != hi
    ou, ov = u[~z][between], v[~z][between]
    lo, hi, wp = lo[between], hi[between], wp[between]
    # the cheapest original edge of every pair of super-nodes
    order = np.lexsort((wp, hi, lo))
    lo, hi, wp, ou, ov = lo[order], hi[order], wp[order], ou[order], ov[order]
    first = np.ones(lo.size, dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    lo, hi, wp = lo[first], hi[first], wp[first]
    Ak = canonical_csr(sp.coo_array((wp, (lo, hi)), shape=(k, k)))
    t = np.asarray(terminals, dtype=np.int64)
    _, at = np.unique(label[t], return_index=True)
    return Contraction(
        A=Ak,
        terminals=label[t][np.sort(at)],
        label=label,
        _orig_terminals=t,
        _keys=lo * k + hi,
        _orig=np.column_stack([ou[first], ov[first]]),
        _zero_forest=zero_forest,
    )
