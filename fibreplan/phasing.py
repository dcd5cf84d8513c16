"""Phasing — what a budget buys and the order to build in: frontier, budget plan, phases.

Everything here works on a planned tree (node pairs, GBP per edge, the
headend as root) and per-node premises counts, so it knows no geography.
Spend follows one model throughout: the route cost of the trenches built plus
a cost per premises passed (the plan's other build items, averaged; see
:func:`fibreplan.plan`), so the whole tree costs the plan's build cost.

- :func:`frontier` orders the build greedily: each step adds the path from
  what is built to the node with the lowest marginal cost per (target)
  premises passed, trenches already dug counting as sunk. The steps are
  nested (dig once), so the frontier is monotone in both spend and premises,
  and deterministic (ties go to the larger gain, then the earlier node).
- :func:`best_within_budget` is exact on the tree: a tree-knapsack dynamic
  programme over connected sub-trees holding the headend gives the most
  target premises within a budget (the reference the greedy frontier is
  measured against, and the ``--budget`` plan).
- :func:`phases` cuts the frontier's steps into phases of equal spend or of
  at most a given spend; each trench is charged once, in the phase that
  digs it.

References
----------
D. S. Johnson and K. A. Niemi, "On knapsacks, partitions, and a new dynamic
programming technique for trees", Mathematics of Operations Research 8(1),
1-14 (1983), doi:10.1287/moor.8.1.1.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse import csgraph

from fibreplan._errors import InputValidationError

__all__ = ["Frontier", "RootedTree", "best_within_budget", "frontier", "phases"]

logger = logging.getLogger(__name__)

#: Spend within this of a budget counts as within it (GBP; float rounding of sums).
_TOL_GBP = 1e-6


@dataclasses.dataclass(frozen=True)
class RootedTree:
    """A tree rooted at the headend, with the spend and premises of each node.

    Attributes
    ----------
    order : numpy.ndarray of int64
        Nodes in breadth-first order from the root (``order[0]`` is the root).
    parent : numpy.ndarray of int64
        Parent of each node (-1 for the root and for nodes off the tree).
    edge_of : numpy.ndarray of int64
        Index (in the caller's edge list) of the edge from each node to its
        parent (-1 for the root and nodes off the tree).
    step_cost_gbp : numpy.ndarray of float64
        Cost of reaching each node from its parent: the edge's GBP plus the
        node's premises cost, GBP (the root's premises cost for the root).
    """

    order: npt.NDArray[np.int64]
    parent: npt.NDArray[np.int64]
    edge_of: npt.NDArray[np.int64]
    step_cost_gbp: npt.NDArray[np.float64]

    @classmethod
    def build(
        cls,
        edges: npt.NDArray[np.int64],
        edge_cost_gbp: npt.NDArray[np.float64],
        root: int,
        node_cost_gbp: npt.NDArray[np.float64],
    ) -> RootedTree:
        """Root a tree's edges at ``root``.

        Parameters
        ----------
        edges : numpy.ndarray of int64, shape (k, 2)
            Tree edges (node pairs); node ids below ``node_cost_gbp.size``.
        edge_cost_gbp : numpy.ndarray of float64, shape (k,)
            Cost of each edge, GBP (non-negative).
        root : int
            The headend's node.
        node_cost_gbp : numpy.ndarray of float64, shape (n,)
            Cost of the premises at each node once passed, GBP.

        Returns
        -------
        RootedTree

        Raises
        ------
        InputValidationError
            If the edges do not form a tree holding ``root`` (a cycle or a
            piece not joined to it) or a cost is negative or not finite.
        """
        n = node_cost_gbp.size
        edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        if not (np.isfinite(edge_cost_gbp).all() and (edge_cost_gbp >= 0).all()):
            msg = "frontier: every edge cost must be finite and >= 0 GBP."
            raise InputValidationError(msg)
        k = edges.shape[0]
        A = sp.csr_array(
            (np.r_[np.arange(k), np.arange(k)] + 1,
             (np.r_[edges[:, 0], edges[:, 1]], np.r_[edges[:, 1], edges[:, 0]])),
            shape=(n, n),
        )  # fmt: skip
        order, pred = csgraph.breadth_first_order(A, root, directed=False)
        if order.size != k + 1:
            msg = (
                f"frontier: the {k} edges do not form one tree holding the root {root} "
                f"({order.size - 1} reached from it); pass the plan's tree."
            )
            raise InputValidationError(msg)
        parent = np.where(pred >= 0, pred, -1).astype(np.int64)
        edge_of = np.full(n, -1, dtype=np.int64)
        child = order[1:]
        edge_of[child] = A[parent[child], child].astype(np.int64) - 1
        step = node_cost_gbp.astype(float).copy()
        step[child] += edge_cost_gbp[edge_of[child]]
        return cls(order=order.astype(np.int64), parent=parent, edge_of=edge_of, step_cost_gbp=step)

    def cumulative(self, values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Sum ``values`` along each node's path from the root (inclusive), by BFS order.

        Parameters
        ----------
        values : numpy.ndarray of float64, shape (n,)
            A value per node.

        Returns
        -------
        numpy.ndarray of float64, shape (n,)
            Path sums (0 off the tree).
        """
        out = np.zeros(values.size)
        out[self.order[0]] = values[self.order[0]]
        for v in self.order[1:]:
            out[v] = out[self.parent[v]] + values[v]
        return out


@dataclasses.dataclass(frozen=True)
class Frontier:
    """A nested build order: premises passed against spend, step by step.

    Attributes
    ----------
    spend_gbp : numpy.ndarray of float64, shape (s + 1,)
        Cumulative spend after each step, GBP (step 0: the root alone);
        non-decreasing.
    passed : numpy.ndarray of int64, shape (s + 1,)
        Cumulative target premises passed after each step; non-decreasing.
    passed_all : numpy.ndarray of int64, shape (s + 1,)
        Cumulative premises passed (target or not) after each step.
    node_step : numpy.ndarray of int64, shape (n,)
        Step at which each node is reached (0 for the root, -1 off the tree).
    edge_step : numpy.ndarray of int64, shape (k,)
        Step at which each tree edge is built (each exactly once).
    """

    spend_gbp: npt.NDArray[np.float64]
    passed: npt.NDArray[np.int64]
    passed_all: npt.NDArray[np.int64]
    node_step: npt.NDArray[np.int64]
    edge_step: npt.NDArray[np.int64]

    def at_budget(self, budget_gbp: float) -> tuple[int, float, int]:
        """Return the last step within ``budget_gbp``, its spend (GBP) and target premises passed.

        Parameters
        ----------
        budget_gbp : float
            Budget, GBP.

        Returns
        -------
        tuple of (int, float, int)
            Step, spend and target premises passed (step -1 if even the root
            alone is over budget).
        """
        i = int(np.searchsorted(self.spend_gbp, budget_gbp + _TOL_GBP, side="right")) - 1
        if i < 0:
            return -1, 0.0, 0
        return i, float(self.spend_gbp[i]), int(self.passed[i])


def _greedy_pass(
    tree: RootedTree,
    weight: npt.NDArray[np.float64],
    built: npt.NDArray[np.bool_],
    pre: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]],
) -> list[npt.NDArray[np.int64]]:
    """Add best-ratio paths until no unbuilt node carries ``weight``; returns each path's nodes.

    ``pre`` is (preorder, position of each node in it, subtree size). The
    deepest built ancestor of every node is kept in preorder positions and
    updated by slices when a path is built.
    """
    preorder, tin, size = pre
    dist = tree.cumulative(tree.step_cost_gbp)
    gain_sum = tree.cumulative(weight)
    anc = np.full(preorder.size, tree.order[0], dtype=np.int64)  # by preorder position
    for v in preorder[built[preorder]]:  # top-down: deeper built nodes override
        anc[tin[v] : tin[v] + size[v]] = v
    paths = []
    while True:
        a = anc
        gain = gain_sum[preorder] - gain_sum[a]
        cand = (gain > 0) & ~built[preorder]
        if not cand.any():
            return paths
        cost = dist[preorder] - dist[a]
        ratio = np.where(cand, cost / np.where(cand, gain, 1.0), np.inf)
        best = np.lexsort((np.arange(preorder.size), -gain, ratio))[0]
        path = []
        v = int(preorder[best])
        while not built[v]:
            path.append(v)
            v = int(tree.parent[v])
        path.reverse()
        for x in path:
            built[x] = True
            anc[tin[x] : tin[x] + size[x]] = x
        paths.append(np.asarray(path, dtype=np.int64))


def _preorder(tree: RootedTree, n: int) -> tuple[npt.NDArray[np.int64], ...]:
    """Preorder of the tree's nodes, each node's position in it and its subtree size."""
    k = tree.order.size
    children = sp.csr_array(
        (np.ones(k - 1), (tree.parent[tree.order[1:]], tree.order[1:])), shape=(n, n)
    )
    preorder = csgraph.depth_first_order(children, int(tree.order[0]), directed=True)[0]
    size = np.zeros(n, dtype=np.int64)
    size[tree.order] = 1
    for v in tree.order[:0:-1]:
        size[tree.parent[v]] += size[v]
    tin = np.full(n, -1, dtype=np.int64)
    tin[preorder] = np.arange(preorder.size)
    return preorder.astype(np.int64), tin, size


def frontier(
    tree: RootedTree,
    target: npt.NDArray[np.int64],
    premises: npt.NDArray[np.int64],
    *,
    anchors: npt.NDArray[np.int64] | None = None,
) -> Frontier:
    """Order a tree's build by marginal cost per target premises passed (dig once).

    Parameters
    ----------
    tree : RootedTree
        The plan's tree with each node's step cost (see :meth:`RootedTree.build`).
    target : numpy.ndarray of int64, shape (n,)
        Target premises at each node (e.g. the eligible ones): the frontier's
        y axis and what the greedy maximises per GBP.
    premises : numpy.ndarray of int64, shape (n,)
        All premises at each node (those passed but not targeted are built
        after every target premises is passed).
    anchors : numpy.ndarray of int64, shape (n,), optional
        Anchor tenants at each node, built first (their own pass of the greedy).

    Returns
    -------
    Frontier
        One step per path added: anchors first (if any), then the target
        premises, then the other premises, then any tree edge left (a step
        passing nothing new). Every tree edge is built in exactly one step.

    Notes
    -----
    Each step scans every node: O(n) per step, O(n s) in all for s steps,
    plus the slices that move the built frontier (O(n depth) at worst). The
    greedy is not optimal (see :func:`best_within_budget` for the exact
    value at a budget).
    """
    n = target.size
    pre = _preorder(tree, n)
    built = np.zeros(n, dtype=bool)
    built[tree.order[0]] = True
    passes = [np.asarray(target, dtype=float), np.asarray(premises, dtype=float)]
    if anchors is not None and anchors.any():
        passes.insert(0, np.asarray(anchors, dtype=float))
    paths = [np.asarray([tree.order[0]], dtype=np.int64)]
    for w in passes:
        paths += _greedy_pass(tree, w, built, pre)
    rest = tree.order[~built[tree.order]]
    if rest.size:
        paths.append(rest)
    node_step = np.full(n, -1, dtype=np.int64)
    for i, path in enumerate(paths):
        node_step[path] = i
    spend = np.array([tree.step_cost_gbp[p].sum() for p in paths])
    passed = np.array([target[p].sum() for p in paths], dtype=np.int64)
    passed_all = np.array([premises[p].sum() for p in paths], dtype=np.int64)
    child = tree.order[1:]
    edge_step = np.full(child.size, -1, dtype=np.int64)
    edge_step[tree.edge_of[child]] = node_step[child]
    return Frontier(
        spend_gbp=np.cumsum(spend),
        passed=np.cumsum(passed),
        passed_all=np.cumsum(passed_all),
        node_step=node_step,
        edge_step=edge_step,
    )


def _merge(
    dp_v: npt.NDArray[np.float64], dp_c: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Min-plus merge of a node's table with a child's: (new table, child's count per entry or -1).

    The loop runs over the shorter table (small-to-large), each pass vectorised.
    """
    out = np.full(dp_v.size + dp_c.size - 1, np.inf)
    out[: dp_v.size] = dp_v  # child left out
    pick = np.full(out.size, -1, dtype=np.int64)
    if dp_c.size <= dp_v.size:
        for j in np.flatnonzero(np.isfinite(dp_c)):
            cand = dp_v + dp_c[j]
            window = out[j : j + dp_v.size]
            better = cand < window
            window[better] = cand[better]
            pick[j : j + dp_v.size][better] = j
    else:
        js = np.arange(dp_c.size)
        for i in np.flatnonzero(np.isfinite(dp_v)):
            cand = dp_v[i] + dp_c
            window = out[i : i + dp_c.size]
            better = cand < window
            window[better] = cand[better]
            pick[i : i + dp_c.size][better] = js[better]
    return out, pick


def best_within_budget(
    tree: RootedTree, target: npt.NDArray[np.int64], budget_gbp: float
) -> tuple[npt.NDArray[np.bool_], float, int]:
    """Find the sub-tree from the root passing the most target premises within a budget (GBP).

    Parameters
    ----------
    tree : RootedTree
        The plan's tree with each node's step cost.
    target : numpy.ndarray of int64, shape (n,)
        Target premises at each node.
    budget_gbp : float
        Budget, GBP.

    Returns
    -------
    chosen : numpy.ndarray of bool, shape (n,)
        Nodes built (the root always; all False if the root alone is over budget).
    spend_gbp : float
        Its spend, GBP (the least spend for that many target premises).
    passed : int
        Target premises it passes (the most possible within the budget).

    Notes
    -----
    Exact over the sub-trees of the given tree (Johnson & Niemi 1983):
    a table per node of the least spend for each number of target premises
    below it, merged child by child (min-plus, small-to-large), then
    followed back from the root. O(P^2) for P target premises in all.
    """
    n = target.size
    dp: dict[int, npt.NDArray[np.float64]] = {}
    picks: dict[int, list[tuple[int, npt.NDArray[np.int64]]]] = {}
    for v in tree.order.tolist():
        table = np.full(int(target[v]) + 1, np.inf)
        table[-1] = tree.step_cost_gbp[v]
        picks[v] = []
        dp[v] = table
    for v in tree.order[:0:-1].tolist():  # leaves first: merge each child into its parent
        p = int(tree.parent[v])
        dp[p], pick = _merge(dp[p], dp.pop(v))
        picks[p].append((v, pick))
    root = int(tree.order[0])
    table = dp[root]
    ok = np.flatnonzero(table <= budget_gbp + _TOL_GBP)
    chosen = np.zeros(n, dtype=bool)
    if ok.size == 0:
        return chosen, 0.0, 0
    k = int(ok[-1])
    spend = float(table[k])
    stack = [(root, k)]
    while stack:
        v, k_v = stack.pop()
        chosen[v] = True
        for child, pick in reversed(picks[v]):
            j = int(pick[k_v])
            if j >= 0:
                stack.append((child, j))
                k_v -= j
    return chosen, spend, int(target[chosen].sum())


def phases(
    fr: Frontier, *, count: int | None = None, phase_budget_gbp: float | None = None
) -> npt.NDArray[np.int64]:
    """Cut a frontier's steps into build phases (1, 2, ...), in the frontier's order.

    Parameters
    ----------
    fr : Frontier
        The build order.
    count : int, optional
        Number of phases of about equal spend: a step goes to the phase whose
        share of the total spend its cumulative spend falls in.
    phase_budget_gbp : float, optional
        Most spend per phase, GBP: steps fill a phase until the next would
        exceed it (a single step dearer than it is a phase of its own, and logged).

    Returns
    -------
    numpy.ndarray of int64, shape (s + 1,)
        Phase of each step (1-based); step 0 (the root) is phase 1.

    Raises
    ------
    InputValidationError
        Unless exactly one of ``count`` (>= 1) and ``phase_budget_gbp`` (> 0) is given.
    """
    if (count is None) == (phase_budget_gbp is None):
        msg = "phases: give exactly one of --phases N or --phase-budget GBP."
        raise InputValidationError(msg)
    step = np.diff(fr.spend_gbp, prepend=0.0)
    if count is not None:
        if count < 1:
            msg = f"--phases must be at least 1; got {count}."
            raise InputValidationError(msg)
        total = float(fr.spend_gbp[-1])
        if total <= 0:
            return np.ones(step.size, dtype=np.int64)
        thresholds = total * np.arange(1, count + 1) / count
        out = np.searchsorted(thresholds, fr.spend_gbp - _TOL_GBP, side="left") + 1
        return np.minimum(out, count).astype(np.int64)
    assert phase_budget_gbp is not None
    if not phase_budget_gbp > 0:
        msg = f"--phase-budget must be > 0 GBP; got {phase_budget_gbp}."
        raise InputValidationError(msg)
    out = np.ones(step.size, dtype=np.int64)
    phase, used = 1, 0.0
    for i, s in enumerate(step.tolist()):
        if used > 0 and used + s > phase_budget_gbp + _TOL_GBP:
            phase, used = phase + 1, 0.0
        if s > phase_budget_gbp + _TOL_GBP:
            logger.warning(
                "phases: step %d costs GBP %.0f, more than the phase budget GBP %.0f: "
                "a phase of its own", i, s, phase_budget_gbp,
            )  # fmt: skip
        out[i] = phase
        used += s
    return out
