"""PACE-2018-like Steiner instances: fibreplan against networkx on 10k-20k-node graphs.

Two sources, one table:

* generated (always): seeded road-like grids and random geometric graphs of
  10,000-20,000 nodes, integer weights up to 10^4 or 10^6, a share of
  zero-weight edges and a few hundred to a few thousand terminals
  (:func:`pace_like`); the reference is fibreplan's ``method="exact"`` with
  ``--exact-time-limit`` (its lower bound certifies the gap when it does not
  finish);
* PACE 2018 track 3 (when ``--pace-dir`` holds ``Track3/*.gr`` and
  ``track3.csv``, e.g. a checkout of
  github.com/PACE-challenge/SteinerTree-PACE-2018-instances; skipped
  otherwise): the instances of at most ``--max-nodes`` nodes, gaps to the
  best known values of ``track3.csv``.

Methods: ``fp-heur`` (``method="heuristic"``), ``nx-mehlhorn`` (networkx
``approximation.steiner_tree(method="mehlhorn")``) and, with ``--kou``,
``nx-kou``. Every tree is verified independently (``steinlib.verify``).
Times are process CPU seconds (fair on a shared machine; every solver here
uses one core); the compiled kernels are loaded first, apart.

Usage::

    python benchmarks/pace_like.py --out benchmarks/results/pace-like.tsv
    python benchmarks/pace_like.py --pace-dir ../PACE2018 --no-generated
    python benchmarks/pace_like.py --pace-dir ../PACE2018 --no-generated --names instance077
"""

from __future__ import annotations

import argparse
import csv
import logging
import math
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parent))

from steinlib import to_nx
from steinlib import verify

from fibreplan.optimise import load_kernels
from fibreplan.optimise import steiner_tree_csr

#: Generated instances: (kind, nodes, terminals, maximum weight, seed).
GENERATED = [
    ("grid", 10_000, 300, 10_000, 1),
    ("grid", 15_000, 1_000, 1_000_000, 2),
    ("grid", 20_000, 3_000, 10_000, 3),
    ("geometric", 10_000, 500, 1_000_000, 4),
    ("geometric", 15_000, 2_000, 10_000, 5),
    ("geometric", 20_000, 400, 1_000_000, 6),
]


def pace_like(
    kind: str,
    n: int,
    n_terminals: int,
    *,
    max_weight: int = 10_000,
    zero_share: float = 0.05,
    seed: int = 0,
) -> tuple[sp.csr_array, npt.NDArray[np.int64]]:
    """Seeded PACE-like instance; return ``(A, terminals)`` with explicit zero weights.

    Parameters
    ----------
    kind : {"grid", "geometric"}
        ``"grid"``: a jittered square grid with about 15 % of its links
        removed and a few diagonals (road-like); ``"geometric"``: uniform
        random points joined to their 4 nearest neighbours.
    n : int
        Approximate number of nodes (grids round to a square).
    n_terminals : int
        Terminals, drawn uniformly from the largest connected component.
    max_weight : int, default 10_000
        Weights are the Euclidean lengths scaled to integers in ``[1, max_weight]``.
    zero_share : float, default 0.05
        Share of edges whose weight is set to 0 (PACE track 3 has such edges).
    seed : int, default 0
        The instance is a deterministic function of all arguments.
    """
    rng = np.random.default_rng(seed)
    if kind == "grid":
        side = round(math.sqrt(n))
        idx = np.arange(side * side).reshape(side, side)
        xy = np.column_stack([c.ravel() for c in np.meshgrid(np.arange(side), np.arange(side))])
        xy = xy + rng.uniform(-0.3, 0.3, size=xy.shape)
        u = np.concatenate([idx[:-1, :].ravel(), idx[:, :-1].ravel(), idx[:-1, :-1].ravel()])
        v = np.concatenate([idx[1:, :].ravel(), idx[:, 1:].ravel(), idx[1:, 1:].ravel()])
        n_axis = 2 * side * (side - 1)
        keep = np.r_[rng.random(n_axis) > 0.15, rng.random(u.size - n_axis) < 0.05]
        u, v = u[keep], v[keep]
    elif kind == "geometric":
        xy = rng.random((n, 2)) * math.sqrt(n)
        _, nb = cKDTree(xy).query(xy, k=5)
        u = np.repeat(np.arange(n), 4)
        v = nb[:, 1:].ravel()
        u, v = np.minimum(u, v), np.maximum(u, v)
        uv = np.unique(u * n + v)
        u, v = uv // n, uv % n
    else:
        raise ValueError(f"unknown kind {kind!r}: use 'grid' or 'geometric'")
    length = np.linalg.norm(xy[u] - xy[v], axis=1)
    w = np.maximum(1, np.round(length / length.max() * max_weight)).astype(float)
    w[rng.random(w.size) < zero_share] = 0.0
    n_nodes = xy.shape[0]
    A = sp.csr_array(
        (np.r_[w, w], (np.r_[u, v], np.r_[v, u])), shape=(n_nodes, n_nodes)
    )  # explicit zeros stay stored
    A.sort_indices()
    # the largest connected component only (networkx's Mehlhorn needs one component)
    _, comp = csgraph.connected_components(A, directed=False)
    big = np.flatnonzero(comp == np.bincount(comp).argmax())
    A = A[big][:, big]
    A.sort_indices()
    terminals = np.sort(rng.choice(big.size, size=n_terminals, replace=False)).astype(np.int64)
    return A, terminals


def read_gr(path: Path) -> tuple[sp.csr_array, npt.NDArray[np.int64]]:
    """Read a PACE 2018 ``.gr`` file (1-based nodes, zero weights allowed)."""
    us, vs, ws, ts = [], [], [], []
    n = 0
    with path.open() as fh:
        for line in fh:
            part = line.split()
            if not part:
                continue
            if part[0] == "Nodes":
                n = int(part[1])
            elif part[0] == "E":
                us.append(int(part[1]) - 1)
                vs.append(int(part[2]) - 1)
                ws.append(float(part[3]))
            elif part[0] == "T":
                ts.append(int(part[1]) - 1)
    u, v, w = np.array(us), np.array(vs), np.array(ws)
    A = sp.csr_array((np.r_[w, w], (np.r_[u, v], np.r_[v, u])), shape=(n, n))
    A.sort_indices()
    return A, np.unique(np.array(ts, dtype=np.int64))


def _gr_nodes(path: Path) -> int:
    with path.open() as fh:
        for line in fh:
            if line.startswith("Nodes"):
                return int(line.split()[1])
    return 0


def run(method: str, A: sp.csr_array, t: npt.NDArray[np.int64], G: nx.Graph, limit: float):
    """Return (edges, lower bound, proven, CPU seconds)."""
    t0 = time.process_time()
    if method.startswith("fp-"):
        kind = {"fp-heur": "heuristic", "fp-exact": "exact", "fp-auto": "auto"}[method]
        res = steiner_tree_csr(A, t, method=kind, time_limit=None if kind == "heuristic" else limit)
        return res.edges.tolist(), res.lower_bound, res.optimal, time.process_time() - t0
    T = nx.algorithms.approximation.steiner_tree(G, t.tolist(), method=method[3:])
    return list(T.edges), math.nan, False, time.process_time() - t0


def instances(args: argparse.Namespace):
    """Yield (series, name, A, terminals, reference value or NaN)."""
    if not args.no_generated:
        for kind, n, k, wmax, seed in GENERATED:
            A, t = pace_like(kind, n, k, max_weight=wmax, seed=seed)
            yield "generated", f"{kind}-{n // 1000}k-t{k}-w{wmax:.0e}", A, t, math.nan
    pace = args.pace_dir
    if pace is None:
        return
    if not (pace / "track3.csv").is_file():
        print(f"PACE 2018 instances not found in {pace} (Track3/*.gr, track3.csv); skipped.")
        return
    with (pace / "track3.csv").open() as fh:
        best = {r["paceName"].strip(): float(r["upper"]) for r in csv.DictReader(fh)}
    files = [f for f in sorted((pace / "Track3").glob("*.gr")) if _gr_nodes(f) <= args.max_nodes]
    if args.names:
        files = [f for f in files if f.stem in args.names]
    for f in files[:: args.every]:
        A, t = read_gr(f)
        yield "pace3", f.stem, A, t, best.get(f.name, math.nan)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--pace-dir", type=Path, default=None, help="folder with Track3/ and track3.csv"
    )
    ap.add_argument("--max-nodes", type=int, default=20_000)
    ap.add_argument("--every", type=int, default=1, help="every k-th PACE instance only")
    ap.add_argument("--names", nargs="*", default=None, help="only these, e.g. instance077")
    ap.add_argument("--no-generated", action="store_true")
    ap.add_argument("--kou", action="store_true", help="also networkx's Kou et al. (slow)")
    ap.add_argument(
        "--exact-time-limit", type=float, default=60.0,
        help="seconds for the reference run of method='exact' on generated instances (0: none)",
    )  # fmt: skip
    ap.add_argument("--out", type=Path, default=Path("pace-like.tsv"))
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    print(f"fibreplan kernels compiled or loaded from numba's cache in {load_kernels():.2f} s")
    methods = ["fp-heur", "nx-mehlhorn"] + (["nx-kou"] if args.kou else [])
    cols = ["series", "name", "nodes", "edges", "zero_edges", "terminals", "method", "cost",
            "reference", "gap_pct", "lower_bound", "seconds", "valid"]  # fmt: skip
    rows = []
    with args.out.open("w", newline="") as out:
        writer = csv.writer(out, delimiter="\t")
        writer.writerow(cols)
        for series, name, A, t, known in instances(args):
            ref = known
            G = to_nx(A)
            coo = sp.triu(A, k=1, format="coo")
            edge_w = {
                (int(a), int(b)): float(c)
                for a, b, c in zip(coo.row, coo.col, coo.data, strict=True)
            }
            got = {}
            for m in methods:
                edges, lb, _, secs = run(m, A, t, G, args.exact_time_limit)
                ok, cost, why = verify(edge_w, edges, t)
                if not ok:
                    print(f"  {name} {m}: INVALID tree ({why})")
                got[m] = (cost if ok else math.nan, lb, secs, ok)
            lb_ref = got["fp-heur"][1]
            if series == "generated" and args.exact_time_limit > 0:
                edges, lb, proven, secs = run("fp-exact", A, t, G, args.exact_time_limit)
                ok, cost, _ = verify(edge_w, edges, t)
                lb_ref = max(lb_ref, lb)
                ref = cost if ok and proven else math.nan
                print(f"  reference: exact {cost:g} proven={proven} bound {lb:g} in {secs:.1f} s")
            for m, (cost, lb, secs, ok) in got.items():
                # gap to the optimum / best known value, else to the best lower bound
                base = ref if np.isfinite(ref) else lb_ref
                gap = 100 * (cost - base) / base if base > 0 else math.nan
                row = [series, name, A.shape[0], coo.nnz, int((coo.data == 0).sum()), t.size, m,
                       cost, base, gap, lb, secs, ok]  # fmt: skip
                rows.append(dict(zip(cols, row, strict=True)))
                writer.writerow(row)
            out.flush()
            print(
                f"{series} {name}: n={A.shape[0]} m={coo.nnz} t={t.size} ref={ref:g} "
                + " ".join(f"{m}={c:g}({s:.2f}s)" for m, (c, _, s, _) in got.items()),
                flush=True,
            )
    summarise(rows, methods)
    return 0


def summarise(rows: list[dict], methods: list[str]) -> None:
    print()
    print("series     method        n  mean_gap%  max_gap%  total_cpu_s")
    for series in sorted({r["series"] for r in rows}):
        tot = {}
        for m in methods:
            rs = [r for r in rows if r["series"] == series and r["method"] == m]
            gaps = [r["gap_pct"] for r in rs if r["valid"] and np.isfinite(r["gap_pct"])]
            tot[m] = sum(r["seconds"] for r in rs)
            print(
                f"{series:<10} {m:<12} {len(rs):>3} {np.mean(gaps):>10.3f} {np.max(gaps):>9.3f} "
                f"{tot[m]:>12.2f}"
            )
        if tot.get("nx-mehlhorn"):
            print(f"{series:<10} time ratio fp-heur / nx-mehlhorn = "
                  f"{tot['fp-heur'] / tot['nx-mehlhorn']:.2f}")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
