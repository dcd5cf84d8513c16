"""Phasing — what a budget buys and the order to build in: frontier, budget plan, phases.

Everything here works on a planned tree (node pairs, GBP per edge, the
headend as root) and per-node premises counts, so it knows no geography.
Spend follows one model throughout: the route cost of the trenches built plus
a cost per premises passed (the plan's other build items, averaged; see
:func:`fibreplan.plan`), so the whole tree costs the plan's build cost.

- :func:`frontier` orders the build greedily: each step adds the sub-tree
  hanging from what is built with the lowest marginal cost per (target)
  premises passed (found exactly by Dinkelbach's method), trenches already
  dug counting as sunk. The steps are
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
W. Dinkelbach, "On nonlinear fractional programming", Management Science
13(7), 492-498 (1967), doi:10.1287/mnsc.13.7.492.
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
from numba import njit
from scipy.sparse import csgraph

from fibreplan._errors import InputValidationError

__all__ = [
    "BudgetTable",
    "Frontier",
    "RootedTree",
    "best_within_budget",
    "budget_table",
    "frontier",
    "phases",
]

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


@njit(cache=True)
def _best_subtree(  # noqa: PLR0917 - a numba kernel takes positional arrays
    order: npt.NDArray[np.int64],
    parent: npt.NDArray[np.int64],
    cost: npt.NDArray[np.float64],
    weight: npt.NDArray[np.float64],
    built: npt.NDArray[np.bool_],
    best: npt.NDArray[np.bool_],
) -> bool:
    """Mark in ``best`` the unbuilt sub-tree, hanging from the built part, of least cost per weight.

    Dinkelbach's method: for a ratio ``r``, every node's best hanging
    sub-tree value is ``f(v) = w(v) - c(v) / r + sum of positive f(children)``
    (one sweep, leaves first); the best one hanging from a built node is
    taken (a second sweep, root first) and ``r`` set to its ratio, until it
    stops falling. Returns False when no unbuilt weight is left.
    """
    n = order.size
    f = np.zeros(cost.size)
    acc = np.zeros(cost.size)
    cand = np.zeros(cost.size, dtype=np.bool_)
    r = np.inf
    found = False
    for _ in range(64):
        acc[:] = 0.0
        for i in range(n - 1, 0, -1):
            v = order[i]
            if built[v]:
                continue
            f[v] = weight[v] + acc[v] - (0.0 if r == np.inf else cost[v] / r)
            p = parent[v]
            if f[v] > 0 and not built[p]:
                acc[p] += f[v]
        top, top_f = -1, 1e-12
        for i in range(1, n):
            v = order[i]
            if not built[v] and built[parent[v]] and f[v] > top_f:
                top, top_f = v, f[v]
        if top < 0:
            return found
        c, g = 0.0, 0.0
        cand[:] = False
        for i in range(1, n):
            v = order[i]
            if not built[v] and (v == top or (cand[parent[v]] and f[v] > 0)):
                cand[v] = True
                c += cost[v]
                g += weight[v]
        ratio = c / g
        if found and ratio >= r * (1 - 1e-12):
            return True
        best[:] = cand
        found = True
        r = ratio
        if r == 0:
            return True
    return found


@njit(cache=True)
def _best_path(  # noqa: PLR0917 - a numba kernel takes positional arrays
    order: npt.NDArray[np.int64],
    parent: npt.NDArray[np.int64],
    cost: npt.NDArray[np.float64],
    weight: npt.NDArray[np.float64],
    built: npt.NDArray[np.bool_],
    best: npt.NDArray[np.bool_],
) -> bool:
    """Mark in ``best`` the unbuilt path, from the built part, of least cost per weight.

    One sweep root first gives each unbuilt node the cost and weight of its
    path from the nearest built ancestor; ties go to the larger weight, then
    the earlier node. Returns False when no unbuilt weight is left.
    """
    c = np.zeros(cost.size)
    g = np.zeros(cost.size)
    top, top_r, top_g = -1, np.inf, 0.0
    for i in range(1, order.size):
        v = order[i]
        if built[v]:
            continue
        p = parent[v]
        c[v] = cost[v] + (0.0 if built[p] else c[p])
        g[v] = weight[v] + (0.0 if built[p] else g[p])
        if g[v] > 0:
            r = c[v] / g[v]
            if r < top_r or (r == top_r and g[v] > top_g):
                top, top_r, top_g = v, r, g[v]
    if top < 0:
        return False
    v = top
    while not built[v]:
        best[v] = True
        v = parent[v]
    return True


def _greedy_pass(
    tree: RootedTree, weight: npt.NDArray[np.float64], built: npt.NDArray[np.bool_]
) -> list[npt.NDArray[np.int64]]:
    """Add least-cost-per-weight sub-trees, each path by path, until no weight is left unbuilt.

    The sub-tree of least cost per weight sets the direction; it is built as
    a sequence of least-cost-per-weight paths within it, so the frontier
    rises in small steps (a budget between two steps loses less).
    """
    steps = []
    best = np.zeros(built.size, dtype=np.bool_)
    path = np.zeros(built.size, dtype=np.bool_)
    while _best_subtree(tree.order, tree.parent, tree.step_cost_gbp, weight, built, best):
        inside = np.where(best, weight, 0.0)
        while _best_path(tree.order, tree.parent, tree.step_cost_gbp, inside, built, path):
            nodes = tree.order[path[tree.order]]
            built[nodes] = True
            steps.append(nodes)
            path[:] = False
        best[:] = False
    return steps


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
        One step per sub-tree added: anchors first (if any), then the target
        premises, then the other premises, then any tree edge left (a step
        passing nothing new). Every tree edge is built in exactly one step.

    Notes
    -----
    Each step finds the sub-tree hanging from what is built with the least
    cost per target premises (a maximum-density rooted sub-tree, exact by
    Dinkelbach's parametric method, each round two O(n) sweeps of a compiled
    kernel): O(n s) per round in all for s steps. The greedy is not optimal
    (see :func:`best_within_budget` for the exact value at a budget).
    """
    n = target.size
    built = np.zeros(n, dtype=bool)
    built[tree.order[0]] = True
    passes = [np.asarray(target, dtype=float), np.asarray(premises, dtype=float)]
    if anchors is not None and anchors.any():
        passes.insert(0, np.asarray(anchors, dtype=float))
    paths = [np.asarray([tree.order[0]], dtype=np.int64)]
    for w in passes:
        paths += _greedy_pass(tree, w, built)
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


@dataclasses.dataclass(frozen=True)
class BudgetTable:
    """The exact least spend for each number of target premises passed on a tree.

    Built by :func:`budget_table`; :meth:`best` gives the plan within a
    budget, :meth:`premises_within` how many target premises the best plan
    within each of several budgets passes.

    Attributes
    ----------
    spend_gbp : numpy.ndarray of float64, shape (P + 1,)
        ``spend_gbp[k]``: least spend of a sub-tree holding the root that
        passes exactly ``k`` target premises, GBP (inf if none does).
    """

    spend_gbp: npt.NDArray[np.float64]
    _picks: dict[int, list[tuple[int, npt.NDArray[np.int64]]]]
    _root: int
    _target: npt.NDArray[np.int64]

    def premises_within(self, budgets_gbp: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Return the most target premises passed within each budget (-1 if none fits).

        Parameters
        ----------
        budgets_gbp : array_like of float
            Budgets, GBP.

        Returns
        -------
        numpy.ndarray of int64
        """
        least = np.minimum.accumulate(self.spend_gbp[::-1])[::-1]  # least spend for >= k
        b = np.asarray(budgets_gbp, dtype=float)
        return np.searchsorted(least, b + _TOL_GBP, side="right").astype(np.int64) - 1

    def best(self, budget_gbp: float) -> tuple[npt.NDArray[np.bool_], float, int]:
        """Return the sub-tree passing the most target premises within ``budget_gbp``.

        Parameters
        ----------
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
        """
        ok = np.flatnonzero(self.spend_gbp <= budget_gbp + _TOL_GBP)
        chosen = np.zeros(self._target.size, dtype=bool)
        if ok.size == 0:
            return chosen, 0.0, 0
        k = int(ok[-1])
        stack = [(self._root, k)]
        while stack:
            v, k_v = stack.pop()
            chosen[v] = True
            for child, pick in reversed(self._picks[v]):
                j = int(pick[k_v])
                if j >= 0:
                    stack.append((child, j))
                    k_v -= j
        return chosen, float(self.spend_gbp[k]), int(self._target[chosen].sum())


def budget_table(tree: RootedTree, target: npt.NDArray[np.int64]) -> BudgetTable:
    """Tabulate the least spend for each number of target premises passed (exact, on the tree).

    Parameters
    ----------
    tree : RootedTree
        The plan's tree with each node's step cost.
    target : numpy.ndarray of int64, shape (n,)
        Target premises at each node.

    Returns
    -------
    BudgetTable

    Notes
    -----
    Exact over the sub-trees of the given tree holding its root (Johnson &
    Niemi 1983): a table per node of the least spend for each number of
    target premises below it, merged child by child (min-plus,
    small-to-large), kept for following back from the root. O(P^2) for P
    target premises in all.
    """
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
    return BudgetTable(dp[root], picks, root, np.asarray(target, dtype=np.int64))


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

    See Also
    --------
    budget_table : the table behind it, for many budgets at once.
    """
    return budget_table(tree, target).best(budget_gbp)


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
