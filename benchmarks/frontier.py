"""Coverage against spend: fibreplan's frontier against the exact budget plan and pcst-fast.

For an area and an (illustrative) status release, the script plans the
eligible premises (``--eligible-only``), then at a quarter, half and three
quarters of the whole plan's spend compares, in one run:

- ``greedy``: fibreplan's frontier (:func:`fibreplan.phasing.frontier`), the
  nested dig-once build order (least cost per eligible premises sub-trees,
  built path by path), read at the budget;
- ``exact``: the most eligible premises of any sub-tree of the plan's tree
  within the budget (:func:`fibreplan.phasing.budget_table`, exact on the tree);
- ``pcst``: a prize-collecting Steiner tree on the whole trench graph (not
  only the plan's tree) from pcst-fast (Hegde, Indyk & Schmidt 2015, GW
  pruning ``strong``), swept over the prize per eligible premises on a
  geometric grid; the best swept tree within the budget.

Spend is the same model everywhere: route GBP (the trench graph's edge costs)
+ the plan's other build items per premises passed (``plan.bid.per_premises_gbp``)
for every premises at a node the tree reaches. Times are wall seconds of each
method on this machine, in the same run.

Usage::

    python benchmarks/frontier.py                       # the demo with its illustrative status
    python benchmarks/frontier.py --rutland             # also Rutland (../shared/data), rural
    python benchmarks/frontier.py --sweep 80            # prizes on the pcst grid
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import fibreplan
from fibreplan.phasing import budget_table
from fibreplan.phasing import frontier
from fibreplan.phasing import phases
from fibreplan.subsidy import BidOptions
from fibreplan.subsidy import anchor_mask
from fibreplan.subsidy import bid_tree
from fibreplan.subsidy import eligible_mask

ROOT = Path(__file__).resolve().parents[1]
DEMO_STATUS = ROOT / "tests" / "data" / "demo_status_ILLUSTRATIVE.csv"
RUTLAND = ROOT.parent / "shared" / "data" / "rutland_rutland.osm.pbf"
FRACTIONS = (0.25, 0.5, 0.75)


def _pcst_sweep(plan: fibreplan.Plan, eligible: np.ndarray, per: float, sweep: int) -> np.ndarray:
    """Return (spend GBP, eligible passed) of pcst-fast trees swept over the prize per premises."""
    import pcst_fast

    tg = plan.trench_graph
    n = tg.n_nodes
    node = tg.premises_node
    reach = node >= 0
    elig = np.bincount(node[reach & eligible], minlength=n).astype(float)
    everyone = np.bincount(node[reach], minlength=n).astype(float)
    edges = np.column_stack([tg.edge_u, tg.edge_v]).astype(np.int64)
    cost = tg.edge_cost_gbp.astype(float)
    points = []
    for prize in np.geomspace(50.0, 2e6, sweep):
        vertices, chosen = pcst_fast.pcst_fast(
            edges, elig * prize, cost, int(tg.headend_node), 1, "strong", 0
        )
        spend = float(cost[chosen].sum() + per * everyone[vertices].sum())
        points.append((spend, float(elig[vertices].sum())))
    return np.array(points)


def _pcst_works() -> str:
    """Return "" if pcst-fast is installed and answers a toy rooted path right, else why not."""
    try:
        import pcst_fast
    except ImportError:
        return "pcst-fast not installed"
    edges = np.array([[0, 1], [1, 2], [2, 3]], dtype=np.int64)
    vertices, chosen = pcst_fast.pcst_fast(
        edges, np.array([0.0, 0.0, 0.0, 10.0]), np.array([1.0, 2.0, 3.0]), 0, 1, "strong", 0
    )
    if sorted(vertices.tolist()) != [0, 1, 2, 3] or sorted(chosen.tolist()) != [0, 1, 2]:
        return (
            f"pcst-fast gives a wrong toy answer (vertices {vertices.tolist()}, edges "
            f"{chosen.tolist()}; expected [0, 1, 2, 3], [0, 1, 2]): its binding returns "
            f"repeated values under numpy {np.__version__} (fraenkel-lab/pcst_fast#16, #25)"
        )
    return ""


def _best_swept(points: np.ndarray, budget: float) -> int:
    ok = points[:, 0] <= budget + 1e-6
    return int(points[ok, 1].max()) if ok.any() else 0


def run(name: str, streets: object, premises: object, status: object, sweep: int) -> None:
    """Plan ``name`` eligible-only with ``status`` and print the three methods at three budgets."""
    t0 = time.perf_counter()
    plan = fibreplan.plan(streets, premises, bid=BidOptions(status=status, eligible_only=True))
    seconds_plan = time.perf_counter() - t0
    bid = plan.bid
    assert bid is not None
    s = plan.summary
    print(f"\n== {name}: {s['premises_total']:,} premises, {s['premises_white']:,} White, "
          f"{s['premises_eligible_passed']:,} eligible passed, "
          f"build GBP {s['cost_build_gbp']:,.0f} "
          f"(GBP {s['cost_per_eligible_premises_passed_gbp']:,.0f} per eligible premises "
          f"passed); plan {seconds_plan:.1f} s")  # fmt: skip

    tree, target, count = bid_tree(plan)
    eligible = eligible_mask(bid.facts.status)
    t0 = time.perf_counter()
    fr = frontier(tree, target, count, anchors=None)
    t_greedy = time.perf_counter() - t0
    t0 = time.perf_counter()
    table = budget_table(tree, target)
    t_exact = time.perf_counter() - t0
    t0 = time.perf_counter()
    why_not = _pcst_works()
    points = None if why_not else _pcst_sweep(plan, eligible, bid.per_premises_gbp, sweep)
    t_pcst = time.perf_counter() - t0
    total = float(fr.spend_gbp[-1])
    print(f"seconds: greedy frontier {t_greedy:.2f}, exact table {t_exact:.2f}, "
          + (f"pcst-fast sweep of {sweep} prizes {t_pcst:.2f}" if points is not None
             else why_not))  # fmt: skip
    print(f"{'budget GBP':>12} {'greedy':>7} {'exact':>7} {'pcst':>7} {'greedy short':>13}")
    for frac in FRACTIONS:
        budget = total * frac
        g = fr.at_budget(budget)[2]
        e = int(table.premises_within([budget])[0])
        p = str(_best_swept(points, budget)) if points is not None else "n/a"
        short = 100.0 * (e - g) / e if e else 0.0
        print(f"{budget:>12,.0f} {g:>7} {e:>7} {p:>7} {short:>12.1f}%")
    step_phase = phases(fr, count=3)
    spend = np.bincount(step_phase, weights=np.diff(fr.spend_gbp, prepend=0.0))[1:]
    passed = np.bincount(step_phase, weights=np.diff(fr.passed, prepend=0))[1:]
    anchors = int(anchor_mask(plan.premises_input).sum())
    print("phases (3): " + "; ".join(
        f"{i + 1}: GBP {spend[i]:,.0f}, {int(passed[i]):,} eligible" for i in range(spend.size)
    ) + f"  (public anchors in the area: {anchors})")  # fmt: skip


def main() -> None:
    """Run on the demo (and Rutland with --rutland)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rutland", action="store_true", help="also Rutland (../shared/data)")
    ap.add_argument("--sweep", type=int, default=60, help="prizes on the pcst-fast grid")
    args = ap.parse_args()
    streets, premises = fibreplan.demo_data()
    run("demo (Fitzrovia), ILLUSTRATIVE statuses", streets, premises, DEMO_STATUS, args.sweep)
    if args.rutland:
        if not RUTLAND.is_file():
            print(f"Rutland skipped: {RUTLAND} absent")
            return
        sys.path.insert(0, str(ROOT / "tests" / "data"))
        from illustrative_status import _P_RURAL
        from illustrative_status import illustrative_status

        gdf = fibreplan.load_premises(RUTLAND)
        if gdf.crs.is_geographic:
            gdf = gdf.to_crs(gdf.estimate_utm_crs())
        status = illustrative_status(gdf, shares=_P_RURAL)
        run("Rutland, ILLUSTRATIVE statuses (rural shares)", RUTLAND, RUTLAND, status, args.sweep)


if __name__ == "__main__":
    main()
