"""Synthetic street-network Steiner instances: fibreplan heuristic vs networkx (and steinerpy).

A town is a perturbed grid of streets (links 40-120 m, some missing); along
every street link premises sit every 8-15 m, each a degree-1 leaf (a 3-20 m
drop) hanging off a node inserted on the link. Terminals are all premises plus
one headend on a street corner near the middle. The optimum is the cheapest
trench network reaching every premises.

Times are process CPU seconds (fair on a shared machine; every solver here
runs on one core).

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
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse import csgraph

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fibreplan.optimise import load_kernels
from fibreplan.optimise._graph import canonical_csr
from fibreplan.optimise._graph import is_steiner_tree
from fibreplan.optimise._graph import tree_cost

# measured mean premises per street link of the generator below
MEAN_PREMISES_PER_LINK = 5.6


class TownLayout(NamedTuple):
    """Where a synthetic town's streets and premises are (metres, a local plane)."""

    corner_xy: npt.NDArray[np.float64]  # (c, 2) street corners
    link_u: npt.NDArray[np.int64]  # (l,) street links: corner indices
    link_v: npt.NDArray[np.int64]
    premises_link: npt.NDArray[np.int64]  # (p,) link of each premises, sorted by link
    premises_pos_m: npt.NDArray[np.float64]  # (p,) attach point, metres from link_u along it
    drop_m: npt.NDArray[np.float64]  # (p,) drop length, metres
    headend: int  # corner index


def town_layout(n_premises: int, *, seed: int = 0) -> TownLayout:
    """Lay out a synthetic town: jittered street grid, premises along the links.

    Parameters
    ----------
    n_premises : int
        Approximate number of premises (the actual count is within a few per cent).
    seed : int, default 0
        Seed; the town is a deterministic function of ``(n_premises, seed)``.

    Returns
    -------
    TownLayout
        The geometry that :func:`synthetic_town` turns into a graph.
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
    total = int(k.sum())
    link_of = np.repeat(np.arange(su.size), k)
    first = np.concatenate([[0], np.cumsum(k)[:-1]])
    rank = np.arange(total) - np.repeat(first, k)
    # positions along the link: evenly spaced with jitter, sorted per link
    frac = (rank + 0.5 + rng.uniform(-0.3, 0.3, total)) / np.repeat(np.maximum(k, 1), k)
    pos = frac * length[link_of]
    drop = rng.uniform(3.0, 20.0, total)
    return TownLayout(xy, su, sv, link_of, pos, drop, int(idx[side // 2, side // 2]))


def synthetic_town(n_premises: int, *, seed: int = 0) -> tuple[sp.csr_array, npt.NDArray[np.int64]]:
    """Build a synthetic town; return ``(A, terminals)`` in fibreplan's canonical form.

    Parameters
    ----------
    n_premises : int
        Approximate number of premises (the actual count is within a few per cent).
    seed : int, default 0
        Seed; the town is a deterministic function of ``(n_premises, seed)``
        (laid out by :func:`town_layout`).

    Returns
    -------
    A : scipy.sparse.csr_array
        Symmetric adjacency, weights in metres.
    terminals : numpy.ndarray of int64
        Premises nodes followed by the headend node (the last entry).
    """
    town = town_layout(n_premises, seed=seed)
    su, sv, link_of, pos = town.link_u, town.link_v, town.premises_link, town.premises_pos_m
    length = np.linalg.norm(town.corner_xy[su] - town.corner_xy[sv], axis=1)
    k = np.bincount(link_of, minlength=su.size)
    n_street = town.corner_xy.shape[0]
    total = int(k.sum())
    attach = n_street + np.arange(total)
    premises = n_street + total + np.arange(total)
    first = np.concatenate([[0], np.cumsum(k)[:-1]])
    rank = np.arange(total) - np.repeat(first, k)
    # chain a - p1 - ... - pk - b
    prev_node = np.where(rank == 0, su[link_of], attach - 1)
    prev_pos = np.where(rank == 0, 0.0, np.concatenate([[0.0], pos[:-1]]))
    u = [prev_node, attach]
    v = [attach, premises]
    w = [pos - prev_pos, town.drop_m]
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
    terminals = np.concatenate([premises, [town.headend]]).astype(np.int64)
    return A, terminals


def _networkx_mehlhorn(A: sp.csr_array, terminals: npt.NDArray[np.int64]) -> tuple[float, float]:
    import networkx as nx

    G = nx.from_scipy_sparse_array(A)
    t0 = time.process_time()
    T = nx.algorithms.approximation.steiner_tree(G, terminals.tolist(), method="mehlhorn")
    dt = time.process_time() - t0
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
    t0 = time.process_time()
    try:
        sol = SteinerProblem(G, [terminals.tolist()]).get_solution(time_limit=time_limit)
    except Exception as exc:
        print(f"    steinerpy failed: {type(exc).__name__}: {exc}")
        return np.nan, np.nan, time.process_time() - t0
    return float(sol.objective), float(sol.gap), time.process_time() - t0


def embedded_town() -> tuple[sp.csr_array, npt.NDArray[np.int64]]:
    """The planner's own instance for the embedded town: trench graph (GBP weights), drop points."""
    import fibreplan

    path = fibreplan.demo_path()
    streets, premises = fibreplan.load_osm(path)
    tg = fibreplan.build_trench_graph(streets, premises)
    reach = tg.premises_node >= 0
    A = tg.csr()
    # the headend's connected component only (networkx's Mehlhorn needs a connected graph)
    _, comp = csgraph.connected_components(A, directed=False)
    keep = np.flatnonzero(comp == comp[tg.headend_node])
    new = np.full(A.shape[0], -1, dtype=np.int64)
    new[keep] = np.arange(keep.size)
    terminals = new[np.unique(np.append(tg.premises_node[reach], tg.headend_node))]
    return canonical_csr(A[keep][:, keep]), terminals


def _fibreplan(
    A: sp.csr_array, t: npt.NDArray[np.int64], method: str, time_limit: float | None, seed: int
) -> tuple[float, float, float, bool]:
    from fibreplan.optimise import steiner_tree_csr

    t0 = time.process_time()
    res = steiner_tree_csr(A, t, method=method, seed=seed, time_limit=time_limit)
    dt = time.process_time() - t0
    ok, why = is_steiner_tree(A, res.edges, t)
    if not ok:
        raise SystemExit(f"invalid {method} tree: {why}")
    return tree_cost(A, res.edges), res.lower_bound, dt, res.optimal


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[20000])
    ap.add_argument("--town", action="store_true", help="also the embedded town's own instance")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--exact-time-limit", type=float, default=120.0)
    ap.add_argument("--no-exact", action="store_true", help="skip steinerpy")
    ap.add_argument("--no-networkx", action="store_true", help="skip networkx")
    args = ap.parse_args(argv)
    instances = [("embedded town", embedded_town)] if args.town else []
    instances += [(f"town {n}", lambda n=n: synthetic_town(n, seed=args.seed)) for n in args.sizes]
    # the compiled kernels' first call loads numba's on-disk cache (or compiles once)
    print(f"fibreplan kernels compiled or loaded from numba's cache in {load_kernels():.2f} s")
    rows = []
    for name, make in instances:
        A, t = make()
        print(f"{name}: {A.shape[0]} nodes, {A.nnz // 2} edges, {t.size} terminals", flush=True)
        c_h, lb_h, t_h, _ = _fibreplan(A, t, "heuristic", None, args.seed)
        print(f"  fibreplan heuristic {c_h:.1f} (bound {lb_h:.1f}) in {t_h:.2f} s", flush=True)
        c_x, lb_x, t_x, opt_x = _fibreplan(A, t, "exact", args.exact_time_limit, args.seed)
        print(f"  fibreplan exact {c_x:.1f} (bound {lb_x:.1f}, proven={opt_x}) in {t_x:.2f} s")
        c_nx, t_nx = (np.nan, np.nan)
        if not args.no_networkx:
            c_nx, t_nx = _networkx_mehlhorn(A, t)
            print(f"  networkx mehlhorn {c_nx:.1f} in {t_nx:.2f} s", flush=True)
        c_sp, t_sp = (np.nan, np.nan)
        if not args.no_exact:
            c_sp, gap_sp, t_sp = _steinerpy_optimum(A, t, args.exact_time_limit)
            print(f"  steinerpy {c_sp:.1f} (solver gap {gap_sp:.2%}) in {t_sp:.1f} s", flush=True)
        opt = c_x if opt_x else np.nanmin([c_x, c_sp])
        rows.append((name, t.size, c_h, lb_h, t_h, c_x, opt_x, t_x, c_nx, t_nx, c_sp, t_sp, opt))
    print()
    print(
        f"{'instance':>14} {'terms':>7} {'heur gap%':>9} "
        f"{'heur s':>7} {'bound gap%':>10} {'exact s':>8} {'proven':>6} {'nx gap%':>8} "
        f"{'nx s':>6} {'spy s':>7} {'heur/nx t':>9} {'exact/spy t':>11}"
    )
    for name, nt, ch, lb, th, _cx, ox, tx, cn, tn, _cs, ts, opt in rows:
        print(
            f"{name:>14} {nt:>7} "
            f"{100 * (ch / opt - 1):>9.4f} {th:>7.2f} {100 * (ch / lb - 1):>10.4f} {tx:>8.2f} "
            f"{ox!s:>6} {100 * (cn / opt - 1):>8.3f} {tn:>6.2f} {ts:>7.1f} {th / tn:>9.3f} "
            f"{tx / ts:>11.3f}"
        )


if __name__ == "__main__":
    main()
