"""Benchmark fibreplan's Steiner tree optimiser on SteinLib series B, C, D.

Compares, on every instance in one run:

* ``fp-heur``   fibreplan ``method="heuristic"`` (reductions + heuristic + dual-ascent bound)
* ``fp-exact``  fibreplan ``method="exact"`` (with ``--time-limit``)
* ``nx-mehlhorn`` networkx ``approximation.steiner_tree(method="mehlhorn")``
* ``nx-kou``    networkx ``approximation.steiner_tree(method="kou")`` -- only on the
  series in ``--kou-series`` (default B and C) because it takes minutes per D instance
* ``steinerpy`` ``steinerpy.SteinerProblem(...).get_solution(time_limit=--time-limit)``

With ``--orders K --seeds S`` the heuristic is also run on every instance
with its nodes relabelled by K - 1 random permutations (plus the file order)
and seeds 0 .. S - 1, to show that its quality does not hang on the order in
which ties are met; those runs go to ``<out>-orders.tsv``.

Times are process CPU seconds (fair on a shared machine).

Every returned tree is verified independently of fibreplan (connected, acyclic, spans
the terminals, cost recomputed from the input weights). OPTIMA.tsv is read here only
to report gaps; the solvers never see it.

Usage::

    python benchmarks/steinlib.py --series B C --time-limit 60 --out results.tsv
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import logging
import math
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np
import scipy.sparse as sp

from fibreplan.optimise import load_kernels
from fibreplan.optimise import read_stp
from fibreplan.optimise import steiner_tree_csr

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "benchdata" / "steinlib"
ALL_METHODS = ["fp-heur", "fp-exact", "nx-mehlhorn", "nx-kou", "steinerpy"]


def verify(edge_w: dict[tuple[int, int], float], edges, terminals) -> tuple[bool, float, str]:
    """Independent check: tree, spans terminals; cost from the input weights."""
    edges = [(min(int(u), int(v)), max(int(u), int(v))) for u, v in edges]
    if len(set(edges)) != len(edges):
        return False, math.nan, "duplicate edges"
    cost = 0.0
    for e in edges:
        if e not in edge_w:
            return False, math.nan, f"{e} not an input edge"
        cost += edge_w[e]
    term = {int(x) for x in terminals}
    if not edges:
        return len(term) <= 1, cost, "" if len(term) <= 1 else "empty"
    T = nx.Graph(edges)
    if not nx.is_tree(T):
        return False, cost, "not a tree"
    if not term <= set(T.nodes):
        return False, cost, "terminals not spanned"
    return True, cost, ""


def to_nx(A: sp.csr_array) -> nx.Graph:
    G = nx.Graph()
    G.add_nodes_from(range(A.shape[0]))
    coo = sp.triu(A, k=1, format="coo")
    G.add_weighted_edges_from(
        zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True)
    )
    return G


def run_method(method: str, A, t, G, time_limit: float):
    """Return (edges, lower_bound, optimal, seconds, status)."""
    t0 = time.process_time()
    if method in ("fp-heur", "fp-exact"):
        res = steiner_tree_csr(
            A,
            t,
            method="heuristic" if method == "fp-heur" else "exact",
            time_limit=None if method == "fp-heur" else time_limit,
        )
        return res.edges.tolist(), res.lower_bound, res.optimal, time.process_time() - t0, "ok"
    if method.startswith("nx-"):
        T = nx.algorithms.approximation.steiner_tree(G, t.tolist(), method=method[3:])
        return list(T.edges), math.nan, False, time.process_time() - t0, "ok"
    if method == "steinerpy":
        import steinerpy

        buf = io.StringIO()
        try:
            with contextlib.redirect_stdout(buf):
                prob = steinerpy.SteinerProblem(G, [t.tolist()])
                sol = prob.get_solution(time_limit=time_limit)
        except Exception as exc:  # report and carry on
            return [], math.nan, False, time.process_time() - t0, f"error: {exc}"[:80]
        secs = time.process_time() - t0
        edges = list(sol.edges or [])
        gap = getattr(sol, "gap", math.nan)
        opt = gap is not None and np.isfinite(gap) and gap <= 1e-9 and bool(edges)
        return edges, math.nan, bool(opt), secs, "ok" if edges else "no solution"
    raise ValueError(method)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--series", nargs="+", default=["B", "C"], choices=["B", "C", "D"])
    ap.add_argument(
        "--time-limit", type=float, default=60.0, help="seconds per instance (exact, steinerpy)"
    )
    ap.add_argument("--methods", nargs="+", default=ALL_METHODS, choices=ALL_METHODS)
    ap.add_argument(
        "--kou-series", nargs="*", default=["B", "C"], help="series on which to run nx-kou"
    )
    ap.add_argument("--instances", nargs="*", default=None, help="only these names, e.g. c18 d19")
    ap.add_argument("--out", type=Path, default=Path("results.tsv"))
    ap.add_argument("--orders", type=int, default=1, help="node orders for fp-heur (1: file)")
    ap.add_argument("--seeds", type=int, default=1, help="seeds 0..S-1 for fp-heur")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    if not DATA.is_dir():
        print(f"SteinLib data not found at {DATA}; nothing to benchmark.")
        return 0
    with (DATA / "OPTIMA.tsv").open() as fh:
        optima = {r["name"]: float(r["value"]) for r in csv.DictReader(fh, delimiter="\t")}

    # fibreplan's compiled kernels load from numba's on-disk cache (or compile,
    # once per machine) at their first call: time that apart, as an import cost
    print(f"fibreplan kernels compiled or loaded from numba's cache in {load_kernels():.2f} s")

    rows: list[dict[str, object]] = []
    robust: list[dict] = []
    out = args.out.open("w", newline="")
    writer = csv.writer(out, delimiter="\t")
    cols = [
        "series",
        "name",
        "method",
        "cost",
        "optimum",
        "gap_pct",
        "lower_bound",
        "bound_gap_pct",
        "optimal",
        "seconds",
        "valid",
        "status",
    ]
    writer.writerow(cols)
    for series in args.series:
        files = sorted((DATA / series).glob("*.stp"))
        for f in files:
            name = f.stem
            if args.instances and name not in args.instances:
                continue
            A, t = read_stp(f)
            G = to_nx(A)
            coo = sp.triu(A, k=1, format="coo")
            edge_w = {
                (int(u), int(v)): float(w)
                for u, v, w in zip(coo.row, coo.col, coo.data, strict=True)
            }
            opt = optima.get(name, math.nan)
            line = [f"{name:>4}"]
            for method in args.methods:
                if method == "nx-kou" and series not in args.kou_series:
                    continue
                edges, lb, optimal, secs, status = run_method(method, A, t, G, args.time_limit)
                ok, cost, why = (
                    verify(edge_w, edges, t)
                    if edges or status == "ok"
                    else (False, math.nan, status)
                )
                if not ok:
                    status = status if status != "ok" else f"INVALID: {why}"
                    cost = math.nan
                gap = 100 * (cost - opt) / opt if ok else math.nan
                bgap = 100 * (cost - lb) / lb if ok and lb > 0 else math.nan
                row = {
                    "series": series,
                    "name": name,
                    "method": method,
                    "cost": cost,
                    "optimum": opt,
                    "gap_pct": gap,
                    "lower_bound": lb,
                    "bound_gap_pct": bgap,
                    "optimal": optimal,
                    "seconds": secs,
                    "valid": ok,
                    "status": status,
                }
                rows.append(row)
                writer.writerow([row[c] for c in cols])
                out.flush()
                line.append(f"{method}={cost:g}{'*' if optimal else ''}({secs:.2f}s)")
            print(" ".join(line), f"opt={opt:g}", flush=True)
            if args.orders > 1 or args.seeds > 1:
                robust.extend(any_order(series, name, A, t, edge_w, opt, args.orders, args.seeds))
    out.close()
    summarise(rows, args.methods)
    if robust:
        nx_s: dict[str, float] = {}
        for r in rows:
            if r["method"] == "nx-mehlhorn":
                nx_s[r["series"]] = nx_s.get(r["series"], 0.0) + r["seconds"]
        write_any_order(robust, args.out.with_name(args.out.stem + "-orders.tsv"), nx_s)
    return 0


def any_order(series, name, A, t, edge_w, opt, orders: int, seeds: int) -> list[dict]:
    """fp-heur on ``orders`` node orders (the file's first) and ``seeds`` seeds."""
    n = A.shape[0]
    out = []
    for k in range(orders):
        perm = np.arange(n) if k == 0 else np.random.default_rng(1000 + k).permutation(n)
        inv = np.argsort(perm)
        coo = A.tocoo()
        B = sp.csr_array((coo.data, (perm[coo.row], perm[coo.col])), shape=A.shape)
        B.sort_indices()
        for seed in range(seeds):
            t0 = time.process_time()
            res = steiner_tree_csr(B, perm[t], method="heuristic", seed=seed)
            secs = time.process_time() - t0
            ok, cost, why = verify(edge_w, inv[res.edges].tolist(), t)
            if not ok:
                print(f"  {name} order {k} seed {seed}: INVALID ({why})")
            gap = 100 * (cost - opt) / opt if ok else math.nan
            out.append({"series": series, "name": name, "order": k, "seed": seed, "cost": cost,
                        "optimum": opt, "gap_pct": gap, "seconds": secs, "valid": ok})  # fmt: skip
    worst = max(out, key=lambda r: r["gap_pct"])
    print(f"  {name} fp-heur over {len(out)} orders x seeds: max gap {worst['gap_pct']:.2f} % "
          f"(order {worst['order']}, seed {worst['seed']})", flush=True)  # fmt: skip
    return out


def write_any_order(robust: list[dict], path: Path, nx_seconds: dict[str, float]) -> None:
    """Write the runs; print gaps per series and the time per pass over nx-mehlhorn's."""
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(robust[0]), delimiter="\t")
        writer.writeheader()
        writer.writerows(robust)
    print()
    print("series  fp-heur any order/seed: runs  valid  mean_gap%  max_gap%  mean_s_per_run"
          "  s_per_pass / nx-mehlhorn")  # fmt: skip
    for series in sorted({r["series"] for r in robust}):
        rs = [r for r in robust if r["series"] == series]
        gaps = [r["gap_pct"] for r in rs if r["valid"]]
        # one pass = one run per instance (the mean run time times the instances)
        per_pass = np.mean([r["seconds"] for r in rs]) * len({r["name"] for r in rs})
        nx_s = nx_seconds.get(series, math.nan)
        print(f"{series:>6} {'':>25}{len(rs):>5} {len(gaps):>6} {np.mean(gaps):>10.3f} "
              f"{np.max(gaps):>9.3f} {np.mean([r['seconds'] for r in rs]):>15.3f} "
              f"{per_pass:>8.2f} / {nx_s:.2f} = {per_pass / nx_s:.2f}")  # fmt: skip


def summarise(rows, methods) -> None:
    print()
    print("series method        n  valid  mean_gap%  max_gap%  proven  total_s  mean_bound_gap%")
    for series in sorted({r["series"] for r in rows}):
        tot: dict[str, float] = {}
        for m in methods:
            rs = [r for r in rows if r["series"] == series and r["method"] == m]
            if not rs:
                continue
            gaps = [r["gap_pct"] for r in rs if r["valid"]]
            bg = [r["bound_gap_pct"] for r in rs if r["valid"] and np.isfinite(r["bound_gap_pct"])]
            tot[m] = sum(r["seconds"] for r in rs)
            mean_gap = np.mean(gaps) if gaps else math.nan
            max_gap = np.max(gaps) if gaps else math.nan
            proven = sum(bool(r["optimal"]) for r in rs)
            mean_bg = np.mean(bg) if bg else math.nan
            print(
                f"{series:>6} {m:<12} {len(rs):>3} {len(gaps):>6} {mean_gap:>10.3f} "
                f"{max_gap:>9.3f} {proven:>7} {tot[m]:>8.2f} {mean_bg:>15.3f}"
            )
        for a, b in (
            ("fp-heur", "nx-mehlhorn"),
            ("fp-exact", "steinerpy"),
            ("fp-heur", "steinerpy"),
        ):
            if a in tot and b in tot and tot[b] > 0:
                print(f"{series:>6} time ratio {a} / {b} = {tot[a] / tot[b]:.2f}")


if __name__ == "__main__":
    sys.exit(main())
