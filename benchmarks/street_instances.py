"""Synthetic street-network Steiner instances: fibreplan heuristic vs networkx (and steinerpy).

A town is a perturbed grid of streets (links 40-120 m, some missing); along
every street link premises sit every 8-15 m, each a degree-1 leaf (a 3-20 m
drop) hanging off a node inserted on the link. Terminals are all premises plus
one headend on a street corner near the middle. The optimum is the cheapest
trench network reaching every premises.

Usage::

    python benchmarks/street_instances.py                      # 20k premises
    python benchmarks/street_instances.py --sizes 20000 100000
    python benchmarks/street_instances.py --exact-time-limit 120 --no-networkx

Other scripts can reuse the generator::

    sys.path.insert(0, "benchmarks"); from street_instances import synthetic_town
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse import csgraph

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fibreplan.optimise._graph import canonical_csr
from fibreplan.optimise._graph import is_steiner_tree
from fibreplan.optimise._graph import tree_cost
from fibreplan.optimise._heuristic import heuristic_tree
from fibreplan.optimise._heuristic import mst_distance_network_tree

# measured mean premises per street link of the generator below
MEAN_PREMISES_PER_LINK = 5.6


def synthetic_town(n_premises: int, *, seed: int = 0) -> tuple[sp.csr_array, npt.NDArray[np.int64]]:
    """Build a synthetic town; return ``(A, terminals)`` in fibreplan's canonical form.

    Parameters
    ----------
    n_premises : int
        Approximate number of premises (the actual count is within a few per cent).
    seed : int, default 0
        Seed; the town is a deterministic function of ``(n_premises, seed)``.

    Returns
    -------
    A : scipy.sparse.csr_array
        Symmetric adjacency, weights in metres.
    terminals : numpy.ndarray of int64
        Premises nodes followed by the headend node (the last entry).
    """
    rng = np.random.default_rng(seed)
    links_needed = n_premises / MEAN_PREMISES_PER_LINK / 0.9 * 1.03
    side = max(2, int(np.ceil((1 + np.sqrt(1 + 2 * links_needed)) / 2)))
    # street corners: a jittered 80 m grid
    gx, gy = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    xy = np.column_stack([gx.ravel(), gy.ravel()]).astype(float) * 80.0
    xy += rng.uniform(-20.0, 20.0, size=xy.shape)
    idx = np.arange(side * side).reshape(side, side)
    su = np.concatenate([idx[:-1, :].ravel(), idx[:, :-1].ravel()])
    sv = np.concatenate([idx[1:, :].ravel(), idx[:, 1:].ravel()])
    # ~10 % of links missing, but keep the street network connected
    weight = rng.random(su.size)
    g0 = sp.coo_array((weight + 1e-3, (su, sv)), shape=(side * side,) * 2)
    span = sp.coo_array(csgraph.minimum_spanning_tree(g0))
    in_span = np.zeros(su.size, dtype=bool)
    key = su * side * side + sv
    span_key = np.minimum(span.row, span.col) * side * side + np.maximum(span.row, span.col)
    in_span[np.isin(key, span_key)] = True
    keep = in_span | (rng.random(su.size) > 0.1)
    su, sv = su[keep], sv[keep]
    length = np.linalg.norm(xy[su] - xy[sv], axis=1)
    # premises along each link, every 8-15 m
    spacing = rng.uniform(8.0, 15.0, size=su.size)
    k = np.maximum(np.floor(length / spacing).astype(np.int64) - 1, 0)
    scale = n_premises / max(int(k.sum()), 1)
    if scale < 1.0:
        k = np.floor(k * scale + rng.random(k.size)).astype(np.int64)
    n_street = side * side
    total = int(k.sum())
    attach = n_street + np.arange(total)
    premises = n_street + total + np.arange(total)
    link_of = np.repeat(np.arange(su.size), k)
    first = np.concatenate([[0], np.cumsum(k)[:-1]])
    rank = np.arange(total) - np.repeat(first, k)
    # positions along the link: evenly spaced with jitter, sorted per link
    frac = (rank + 0.5 + rng.uniform(-0.3, 0.3, total)) / np.repeat(np.maximum(k, 1), k)
    pos = frac * length[link_of]
    # chain a - p1 - ... - pk - b
    prev_node = np.where(rank == 0, su[link_of], attach - 1)
    prev_pos = np.where(rank == 0, 0.0, np.concatenate([[0.0], pos[:-1]]))
    u = [prev_node, attach]
    v = [attach, premises]
    w = [pos - prev_pos, rng.uniform(3.0, 20.0, total)]
    last = np.flatnonzero(rank == np.repeat(k, k) - 1)
    u.append(attach[last])
    v.append(sv[link_of[last]])
    w.append(length[link_of[last]] - pos[last])
    bare = k == 0
    u.append(su[bare])
    v.append(sv[bare])
    w.append(length[bare])
    n = n_street + 2 * total
    A = canonical_csr(
        sp.coo_array(
            (np.maximum(np.concatenate(w), 1e-3), (np.concatenate(u), np.concatenate(v))),
            shape=(n, n),
        )
    )
    headend = int(idx[side // 2, side // 2])
    terminals = np.concatenate([premises, [headend]]).astype(np.int64)
    return A, terminals


def _networkx_mehlhorn(A: sp.csr_array, terminals: npt.NDArray[np.int64]) -> tuple[float, float]:
    import networkx as nx

    G = nx.from_scipy_sparse_array(A)
    t0 = time.perf_counter()
    T = nx.algorithms.approximation.steiner_tree(G, terminals.tolist(), method="mehlhorn")
    dt = time.perf_counter() - t0
    return float(T.size(weight="weight")), dt


def _steinerpy_optimum(
    A: sp.csr_array, terminals: npt.NDArray[np.int64], time_limit: float
) -> tuple[float, float, float]:
    """Return (objective, reported relative gap, seconds) from steinerpy, or NaNs."""
    try:
        import networkx as nx
        from steinerpy import SteinerProblem
    except ImportError:
        return np.nan, np.nan, np.nan
    G = nx.from_scipy_sparse_array(A)
    t0 = time.perf_counter()
    try:
        sol = SteinerProblem(G, [terminals.tolist()]).get_solution(time_limit=time_limit)
    except Exception as exc:
        print(f"    steinerpy failed: {type(exc).__name__}: {exc}")
        return np.nan, np.nan, time.perf_counter() - t0
    return float(sol.objective), float(sol.gap), time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[20000])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--exact-time-limit", type=float, default=120.0)
    ap.add_argument("--no-exact", action="store_true", help="skip steinerpy")
    ap.add_argument("--no-networkx", action="store_true", help="skip networkx")
    args = ap.parse_args(argv)
    rows = []
    for size in args.sizes:
        A, t = synthetic_town(size, seed=args.seed)
        print(f"town {size}: {A.shape[0]} nodes, {A.nnz // 2} edges, {t.size} terminals")
        t0 = time.perf_counter()
        base = mst_distance_network_tree(A, t)
        t_base = time.perf_counter() - t0
        c_base = tree_cost(A, base)
        t0 = time.perf_counter()
        tree = heuristic_tree(A, t, seed=args.seed)
        t_heur = time.perf_counter() - t0
        ok, why = is_steiner_tree(A, tree, t)
        if not ok:
            raise SystemExit(f"invalid heuristic tree: {why}")
        c_heur = tree_cost(A, tree)
        print(f"  heuristic {c_heur:.1f} m in {t_heur:.2f} s")
        print(f"  own Mehlhorn baseline {c_base:.1f} m in {t_base:.2f} s")
        c_nx, t_nx = (np.nan, np.nan)
        if not args.no_networkx:
            c_nx, t_nx = _networkx_mehlhorn(A, t)
            print(f"  networkx mehlhorn {c_nx:.1f} m in {t_nx:.2f} s")
        c_opt, gap_opt, t_opt = (np.nan, np.nan, np.nan)
        if not args.no_exact:
            c_opt, gap_opt, t_opt = _steinerpy_optimum(A, t, args.exact_time_limit)
            print(f"  steinerpy {c_opt:.1f} m (solver gap {gap_opt:.2%}) in {t_opt:.1f} s")
        rows.append((size, t.size, c_heur, t_heur, c_nx, t_nx, c_opt, gap_opt, t_opt))
    print()
    head = (
        f"{'premises':>9} {'terminals':>9} {'heur m':>12} {'heur s':>7} {'nx m':>12} "
        f"{'nx s':>7} {'heur/nx cost':>12} {'heur/nx time':>12} {'exact m':>12} "
        f"{'exact s':>7} {'gap to exact':>12}"
    )
    print(head)
    for size, nt, ch, th, cn, tn, co, _go, to in rows:
        print(
            f"{size:>9} {nt:>9} {ch:>12.1f} {th:>7.2f} {cn:>12.1f} {tn:>7.2f} "
            f"{ch / cn:>12.4f} {th / tn:>12.3f} {co:>12.1f} {to:>7.1f} "
            f"{100 * (ch / co - 1):>11.3f}%"
        )


if __name__ == "__main__":
    main()
