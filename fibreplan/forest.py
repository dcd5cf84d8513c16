"""Several headends: a Steiner forest through a zero-cost super-root, designed per headend.

With several exchanges or OLT sites, each premises is served from one of them
and the trench network is a forest (one tree per headend used). The optimiser
finds it as one Steiner tree: a virtual super-root node is joined to every
headend node by a zero-weight edge and made a terminal; dropping the super-root
and its edges from the tree leaves the forest (a minimum Steiner forest whose
trees each hold one headend is exactly a minimum Steiner tree through the
super-root). The PON design (:func:`fibreplan.design.design_network`) then runs
on each tree from its headend, and the designs are joined into one
:class:`~fibreplan.design.Design` with unique DP, cabinet and chamber ids.

The optimiser's part works on arrays (CSR) only, like :mod:`fibreplan.optimise`.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse import csgraph

from fibreplan._errors import InputValidationError
from fibreplan.config import DesignRules
from fibreplan.design import Design
from fibreplan.design import design_network
from fibreplan.optimise import SteinerResult
from fibreplan.optimise import steiner_tree_csr

__all__ = ["Forest", "HeadendAssignment", "design_forest", "island_roots", "steiner_forest_csr"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Forest:
    """A Steiner forest: one tree per headend used.

    Attributes
    ----------
    tree : SteinerResult
        The forest's edges (the super-root's edges removed), its cost and the
        optimiser's bound (both unchanged by the zero-weight edges).
    roots : numpy.ndarray of int64, shape (h,)
        The headend nodes, as given.
    edge_root : numpy.ndarray of int64, shape (k,)
        Index into ``roots`` of the tree holding each edge of ``tree.edges``.
    node_root : numpy.ndarray of int64, shape (n,)
        Index into ``roots`` of the tree holding each graph node; -1 for nodes
        outside the forest.
    """

    tree: SteinerResult
    roots: npt.NDArray[np.int64]
    edge_root: npt.NDArray[np.int64]
    node_root: npt.NDArray[np.int64]


def steiner_forest_csr(
    A: sp.sparray | sp.spmatrix,
    terminals: npt.ArrayLike,
    roots: npt.ArrayLike,
    *,
    method: str = "auto",
    seed: int = 0,
    time_limit: float | None = None,
) -> Forest:
    """Connect every terminal to one of several roots at least total weight.

    Parameters
    ----------
    A : sparse matrix, shape (n, n)
        Weighted adjacency as :func:`fibreplan.optimise.steiner_tree_csr` takes it
        (e.g. trench cost, GBP).
    terminals : array-like of int
        Nodes to connect (premises' drop nodes).
    roots : array-like of int
        Headend nodes, distinct; each terminal is joined to one of them.
    method, seed, time_limit
        As for :func:`fibreplan.optimise.steiner_tree_csr`.

    Returns
    -------
    Forest
        The forest and the root of each of its edges and nodes.

    Raises
    ------
    InputValidationError
        If two roots are the same node or no root is given.

    Notes
    -----
    The super-root ``n`` is joined to each root by a zero-weight edge and the
    tree is solved on ``n + 1`` nodes with terminals ``terminals + {n}``
    (Wong 1984; the usual reduction of the rooted Steiner forest to the
    Steiner tree problem). A tree of the result may hold another root as a
    plain node (a route through an exchange site); the root joined to the
    super-root owns the tree.
    """
    A = sp.csr_array(A)
    n = A.shape[0]
    roots = np.asarray(roots, dtype=np.int64).reshape(-1)
    if roots.size == 0:
        msg = "roots: give at least one headend node."
        raise InputValidationError(msg)
    uniq, counts = np.unique(roots, return_counts=True)
    if np.any(counts > 1):
        same = np.flatnonzero(roots == uniq[counts > 1][0]) + 1
        msg = (
            f"headends {same.tolist()} meet the streets at the same point; "
            "give each exchange once (remove the duplicate rows)."
        )
        raise InputValidationError(msg)
    coo = A.tocoo()
    h = roots.size
    zeros = np.zeros(2 * h)
    B = sp.csr_array(
        (
            np.concatenate([coo.data, zeros]),
            (
                np.concatenate([coo.row, roots, np.full(h, n)]),
                np.concatenate([coo.col, np.full(h, n), roots]),
            ),
        ),
        shape=(n + 1, n + 1),
    )
    terms = np.unique(np.append(np.asarray(terminals, dtype=np.int64), n))
    res = steiner_tree_csr(B, terms, method=method, seed=seed, time_limit=time_limit)
    edges = res.edges.reshape(-1, 2)
    virtual = (edges == n).any(axis=1)
    used = np.sort(edges[virtual].min(axis=1))
    forest = edges[~virtual]
    F = sp.coo_array((np.ones(forest.shape[0]), (forest[:, 0], forest[:, 1])), shape=(n, n))
    n_comp, comp = csgraph.connected_components(F, directed=False)
    comp_root = np.full(n_comp, -1, dtype=np.int64)
    comp_root[comp[used]] = np.searchsorted(uniq, used)  # index into the sorted roots
    sorted_to_given = np.argsort(roots, kind="stable")
    comp_root = np.where(comp_root >= 0, sorted_to_given[np.maximum(comp_root, 0)], -1)
    node_root = comp_root[comp]
    in_tree = np.zeros(n, dtype=bool)
    in_tree[forest.ravel()] = True
    in_tree[used] = True
    node_root[~in_tree] = -1
    edge_root = node_root[forest[:, 0]] if forest.size else np.empty(0, dtype=np.int64)
    if np.any(edge_root < 0):  # pragma: no cover - a tree through the super-root has none
        msg = "steiner_forest_csr: a forest edge reaches no headend (optimiser result broken)."
        raise RuntimeError(msg)
    logger.info("forest: %d of %d headends used, %d edges", used.size, roots.size, forest.shape[0])
    return Forest(
        tree=dataclasses.replace(res, edges=forest),
        roots=roots,
        edge_root=edge_root.astype(np.int64),
        node_root=node_root.astype(np.int64),
    )


#: Which way each Design array runs, by field name prefix (checked: every field has one).
_ALIGN = (
    ("edge_", "edge"),
    ("tree_edges", "edge"),
    ("premises_", "premises"),
    ("drop_length_m", "premises"),
    ("dp_", "dp"),
    ("cabinet_", "cabinet"),
    ("chamber_", "chamber"),
)
_SCALARS = frozenset({"rules", "max_drop_m", "root", "violations", "violation_fixes"})


def _alignment(name: str) -> str:
    for prefix, kind in _ALIGN:
        if name.startswith(prefix):
            return kind
    msg = f"design_forest: Design field {name!r} has no known alignment; add it to _ALIGN."
    raise RuntimeError(msg)


def design_forest(
    tree_edges: npt.NDArray[np.int64],
    edge_length_m: npt.NDArray[np.float64],
    roots: npt.NDArray[np.int64],
    *,
    edge_root: npt.NDArray[np.int64],
    premises_node: npt.NDArray[np.int64],
    drop_length_m: npt.NDArray[np.float64],
    premises_root: npt.NDArray[np.int64],
    rules: DesignRules,
    max_drop_m: float,
    dp_sites: npt.NDArray[np.int64] | None = None,
) -> tuple[Design, dict[str, npt.NDArray[np.int64]]]:
    """Design the PON of each tree of a forest from its headend and join the designs.

    Parameters
    ----------
    tree_edges : ndarray of int64, shape (k, 2)
        The forest's edges (node pairs).
    edge_length_m : ndarray of float64, shape (k,)
        Route length of each edge, metres.
    roots : ndarray of int64, shape (h,)
        Headend nodes.
    edge_root : ndarray of int64, shape (k,)
        Index into ``roots`` of each edge's tree.
    premises_node : ndarray of int64, shape (p,)
        Node where each (connected) premises' drop meets the network.
    drop_length_m : ndarray of float64, shape (p,)
        Drop length of each premises, metres.
    premises_root : ndarray of int64, shape (p,)
        Index into ``roots`` serving each premises.
    rules : DesignRules
        Design rules.
    max_drop_m : float
        Drop limit, metres.
    dp_sites : ndarray of int64, optional
        Nodes that may hold a DP (see :func:`fibreplan.design_network`).

    Returns
    -------
    design : Design
        One design: edge arrays aligned with ``tree_edges``, premises arrays
        with the premises; DPs, cabinets and chambers numbered headend by
        headend (ids unique); ``root`` is the first headend used.
    headend_of : dict of str to ndarray of int64
        Index into ``roots`` of each ``"dp"``, ``"cabinet"`` and ``"chamber"``.
    """
    k, p = tree_edges.shape[0], premises_node.size
    parts = []
    for i, root in enumerate(roots.tolist()):
        e, q = np.flatnonzero(edge_root == i), np.flatnonzero(premises_root == i)
        if e.size == 0 and q.size == 0:
            continue  # headend serves no premises
        d = design_network(
            tree_edges[e], edge_length_m[e], int(root), premises_node[q], drop_length_m[q],
            rules=rules, max_drop_m=max_drop_m, dp_sites=dp_sites,
        )  # fmt: skip
        parts.append((i, e, q, d))
    if not parts:
        msg = "design_forest: no headend serves any premises."
        raise InputValidationError(msg)
    return _join(parts, k=k, p=p)


def _join(
    parts: list[tuple[int, npt.NDArray[np.int64], npt.NDArray[np.int64], Design]],
    *,
    k: int,
    p: int,
) -> tuple[Design, dict[str, npt.NDArray[np.int64]]]:
    """Join per-headend designs: scatter edge/premises arrays, stack the rest with id offsets."""
    first = parts[0][3]
    joined: dict[str, object] = {
        "rules": first.rules, "max_drop_m": first.max_drop_m, "root": first.root,
    }  # fmt: skip
    sizes = {kind: np.array([getattr(d, f"{kind}_node").size for *_, d in parts])
             for kind in ("dp", "cabinet", "chamber")}  # fmt: skip
    offset = {kind: np.concatenate([[0], np.cumsum(s)[:-1]]) for kind, s in sizes.items()}
    for f in dataclasses.fields(Design):
        if f.name in _SCALARS:
            continue
        kind = _alignment(f.name)
        values = [getattr(d, f.name) for *_, d in parts]
        if f.name in {"premises_dp", "dp_cabinet", "premises_cabinet"}:
            target = "dp" if f.name == "premises_dp" else "cabinet"
            values = [v + offset[target][j] for j, v in enumerate(values)]
        if f.name == "chamber_edge":
            values = [np.where(v >= 0, e[np.maximum(v, 0)], -1) if e.size else np.full_like(v, -1)
                      for (_, e, _, _), v in zip(parts, values, strict=True)]  # fmt: skip
        if kind in {"edge", "premises"}:
            size = k if kind == "edge" else p
            out = np.zeros((size, *values[0].shape[1:]), dtype=values[0].dtype)
            for (_, e, q, _), v in zip(parts, values, strict=True):
                out[e if kind == "edge" else q] = v
            joined[f.name] = out
        else:
            joined[f.name] = np.concatenate(values)
    viol = np.concatenate([q[d.violations] for _, _, q, d in parts])
    fixes = [fix for *_, d in parts for fix in d.violation_fixes]
    order = np.argsort(viol, kind="stable")
    joined["violations"] = viol[order].astype(np.int64)
    joined["violation_fixes"] = tuple(fixes[i] for i in order.tolist())
    headend_of = {
        kind: np.repeat([i for i, *_ in parts], s).astype(np.int64) for kind, s in sizes.items()
    }
    return Design(**joined), headend_of  # type: ignore[arg-type]


@dataclasses.dataclass(frozen=True)
class HeadendAssignment:
    """Which headend serves each part of a plan (one headend: all zeros).

    Attributes
    ----------
    ids : tuple of str
        Headend ids, in the order given (``H1``, ``H2``, ... unless the point
        file names them).
    nodes : numpy.ndarray of int64, shape (h,)
        Trench-graph node of each headend.
    edge, premises, dp, cabinet, chamber : numpy.ndarray of int64
        Index into ``ids`` for each trenched edge (the plan's
        ``tree_edge_rows`` order), premises (-1 where unreachable), DP,
        cabinet and chamber.
    """

    ids: tuple[str, ...]
    nodes: npt.NDArray[np.int64]
    edge: npt.NDArray[np.int64]
    premises: npt.NDArray[np.int64]
    dp: npt.NDArray[np.int64]
    cabinet: npt.NDArray[np.int64]
    chamber: npt.NDArray[np.int64]

    @classmethod
    def single(
        cls, headend_id: str, node: int, design: Design, *, n_edges: int,
        premises_reach: npt.NDArray[np.bool_],
    ) -> HeadendAssignment:  # fmt: skip
        """Everything served from the one headend ``node``."""
        return cls(
            ids=(headend_id,),
            nodes=np.array([node], dtype=np.int64),
            edge=np.zeros(n_edges, dtype=np.int64),
            premises=np.where(premises_reach, 0, -1).astype(np.int64),
            dp=np.zeros(design.dp_node.size, dtype=np.int64),
            cabinet=np.zeros(design.cabinet_node.size, dtype=np.int64),
            chamber=np.zeros(design.chamber_kind.size, dtype=np.int64),
        )


def island_roots(
    A: sp.sparray | sp.spmatrix, terminals: npt.ArrayLike, roots: npt.ArrayLike
) -> list[tuple[int, int, int]]:
    """Find headends on a piece of the network apart from where most terminals are.

    A headend snapped to an island (a pedestrian quad or a private road that
    OSM does not join to the streets) serves only that island's premises, and
    the rest go to other headends: legal, but rarely what a planner meant.

    Parameters
    ----------
    A : sparse matrix, shape (n, n)
        The trench graph's adjacency.
    terminals : array-like of int
        Premises nodes.
    roots : array-like of int
        Headend nodes.

    Returns
    -------
    list of tuple of int
        ``(root index, nodes, terminals)`` of each headend outside the
        component holding most terminals: the index into ``roots``, and the
        nodes and terminals of its component.
    """
    roots = np.asarray(roots, dtype=np.int64).reshape(-1)
    terms = np.asarray(terminals, dtype=np.int64).reshape(-1)
    n_comp, label = csgraph.connected_components(sp.csr_array(A), directed=False)
    count = np.bincount(label[terms], minlength=n_comp)
    size = np.bincount(label, minlength=n_comp)
    main = int(count.argmax()) if terms.size else int(size.argmax())
    return [
        (i, int(size[label[r]]), int(count[label[r]]))
        for i, r in enumerate(roots.tolist())
        if label[r] != main
    ]
