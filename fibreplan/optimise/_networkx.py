"""networkx graphs in and out of the optimiser's CSR form.

networkx is imported by the caller (:func:`fibreplan.optimise.steiner_tree`)
only; this module handles any object with the networkx graph interface.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fibreplan._errors import InputValidationError

__all__ = ["NxInstance", "from_networkx", "to_networkx"]


@dataclass(frozen=True)
class NxInstance:
    """A networkx graph as a CSR instance, with the labels and edges to map back.

    Attributes
    ----------
    A : scipy.sparse.csr_array
        Adjacency (cheapest parallel edge; zero weights stored).
    terminals : numpy.ndarray of int64
        Terminal indices, in first-seen order.
    nodes : list
        Node label of every index.
    chosen : dict
        ``(i, j)`` with ``i < j`` -> ``(u, v, key, data)`` of the cheapest edge
        between the two nodes (``key`` None for simple graphs).
    """

    A: sp.csr_array
    terminals: npt.NDArray[np.int64]
    nodes: list[Hashable]
    chosen: dict[tuple[int, int], tuple[Hashable, Hashable, Any, dict[str, Any]]]


def _weight_of(u: Hashable, v: Hashable, d: dict[str, Any], weight: str | None) -> float:
    if weight is None:
        return 1.0
    w = d.get(weight, 1)
    try:
        wf = float(w)
    except (TypeError, ValueError) as exc:
        msg = f"edge ({u!r}, {v!r}) has non-numeric {weight!r} = {w!r}; give it a number."
        raise InputValidationError(msg) from exc
    if not (math.isfinite(wf) and wf >= 0):
        msg = (
            f"edge ({u!r}, {v!r}) has {weight!r} = {wf!r}; weights must be finite and >= 0 "
            "(remove the edge or give it a real weight)."
        )
        raise InputValidationError(msg)
    return wf


def from_networkx(G: Any, terminals: Iterable[Hashable], weight: str | None) -> NxInstance:
    """Convert an undirected networkx (multi)graph and terminal labels to CSR.

    Parameters
    ----------
    G : networkx.Graph or networkx.MultiGraph
        Undirected graph; an edge without ``weight`` weighs 1, and
        ``weight=None`` makes every edge weigh 1 (networkx conventions).
    terminals : iterable of hashable
        Node labels to connect.
    weight : str or None
        Edge attribute holding the weight.

    Returns
    -------
    NxInstance
        The instance and the maps back to labels and edges.

    Raises
    ------
    InputValidationError
        If ``G`` is directed, a terminal is not a node of ``G``, or a weight
        is not a finite number ``>= 0``.
    """
    if G.is_directed():
        msg = "G must be undirected; convert with G.to_undirected() first."
        raise InputValidationError(msg)
    nodes = list(G.nodes)
    index = {v: i for i, v in enumerate(nodes)}
    term_labels = list(dict.fromkeys(terminals))
    missing = [v for v in term_labels if v not in index]
    if missing:
        msg = f"{len(missing)} terminals are not nodes of G (first few: {missing[:10]!r})."
        raise InputValidationError(msg)
    multi = G.is_multigraph()
    chosen: dict[tuple[int, int], tuple[Hashable, Hashable, Any, dict[str, Any]]] = {}
    cheapest: dict[tuple[int, int], float] = {}
    for item in G.edges(keys=True, data=True) if multi else G.edges(data=True):
        u, v, d = item[0], item[1], item[-1]
        wf = _weight_of(u, v, d, weight)
        iu, iv = index[u], index[v]
        if iu == iv:
            continue
        pair = (iu, iv) if iu < iv else (iv, iu)
        if pair not in cheapest or wf < cheapest[pair]:
            cheapest[pair] = wf
            chosen[pair] = (u, v, item[2] if multi else None, d)
    n = len(nodes)
    pairs = np.asarray(list(cheapest), dtype=np.int64).reshape(-1, 2)
    ws = np.asarray(list(cheapest.values()), dtype=np.float64)
    A = sp.csr_array((ws, (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    t = np.asarray([index[v] for v in term_labels], dtype=np.int64)
    return NxInstance(A, t, nodes, chosen)


def to_networkx(G: Any, inst: NxInstance, edges: npt.NDArray[np.int64]) -> Any:
    """Return the tree as a graph of ``G``'s class with the chosen edges' keys and data.

    Parameters
    ----------
    G : networkx.Graph or networkx.MultiGraph
        The input graph.
    inst : NxInstance
        Its conversion by :func:`from_networkx`.
    edges : numpy.ndarray of int64, shape (k, 2)
        Tree edges as node indices.

    Returns
    -------
    networkx.Graph or networkx.MultiGraph
        A new graph of ``type(G)``: ``G.graph``'s attributes, the tree's nodes
        with their attributes, and each tree edge as the cheapest input edge
        between its two nodes (its key on a multigraph) with a copy of its data.
    """
    T = G.__class__()
    T.graph.update(G.graph)
    if inst.terminals.size == 1:
        only = inst.nodes[int(inst.terminals[0])]
        T.add_node(only, **G.nodes[only])
    for iu, iv in edges.tolist():
        u, v, key, d = inst.chosen[(iu, iv)]
        T.add_node(u, **G.nodes[u])
        T.add_node(v, **G.nodes[v])
        if key is None:
            T.add_edge(u, v, **dict(d))
        else:
            T.add_edge(u, v, key=key, **dict(d))
    return T
