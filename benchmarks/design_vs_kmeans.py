"""Network design on the routed tree vs straight-line k-means clustering, same town, same tree.

Prints, for the embedded town, the cost and feasibility of fibreplan's design
(DPs and cabinets placed by capacitated partitioning of the routed tree) next
to a straight-line k-means design (DPs and cabinets at the street nodes
nearest k-means centroids, oversize clusters split), both priced with the same
cost book on the same trench tree. Run: ``python benchmarks/design_vs_kmeans.py``.
"""

from __future__ import annotations

import argparse
import itertools
import math
import time

import networkx as nx
import numpy as np
from scipy.cluster.vq import kmeans2

import fibreplan
from fibreplan.config import DesignRules


def _cable_cost(
    fibres_by_edge: dict, lengths: dict, rules: DesignRules, book
) -> tuple[float, float]:
    """Cost and metres of cables for a {edge: fibres} map (smallest standard size with spare)."""
    cost = metres = 0.0
    rates = sorted(book.cable_gbp_per_m.items())
    for e, used in fibres_by_edge.items():
        if used <= 0:
            continue
        need = used + math.ceil(used * rules.spare_fraction)
        size = next((s for s in rules.cable_sizes if s >= need), rules.cable_sizes[-1])
        count = math.ceil(need / size)
        rate = next((r for s, r in rates if s >= size), rates[-1][1])
        cost += rate * lengths[e] * count
        metres += lengths[e] * count
    return cost, metres


def kmeans_design(plan: fibreplan.Plan, *, seed: int = 0) -> dict[str, float]:
    rules, book, tg = plan.rules, plan.costs, plan.trench_graph
    T = plan.tree_graph()
    prem = plan.premises[plan.premises["status"] == "connected"]
    xy = np.column_stack([prem.geometry.x, prem.geometry.y])
    pnode = prem["node"].to_numpy()
    drop = prem["drop_m"].to_numpy()
    tree_nodes = np.array(sorted(T.nodes))
    txy = tg.node_xy[tree_nodes]

    def nearest_node(points):
        d = ((points[:, None, :] - txy[None, :, :]) ** 2).sum(-1)
        return tree_nodes[d.argmin(1)]

    rng = np.random.default_rng(seed)
    k = math.ceil(len(prem) / rules.dp_capacity)
    _, label = kmeans2(xy, k, seed=rng, minit="++")
    # split oversize clusters so that no DP exceeds its capacity
    dp_of = np.empty(len(prem), dtype=np.int64)
    dp_xy, n_dp = [], 0
    for c in np.unique(label):
        members = np.flatnonzero(label == c)
        for chunk in np.array_split(members, math.ceil(members.size / rules.dp_capacity)):
            dp_of[chunk] = n_dp
            dp_xy.append(xy[chunk].mean(0))
            n_dp += 1
    dp_node = nearest_node(np.array(dp_xy))
    kc = math.ceil(len(prem) / rules.cabinet_capacity)
    _, cab_label = kmeans2(np.array(dp_xy), kc, seed=rng, minit="++")
    cab_ids, cab_of_dp = np.unique(cab_label, return_inverse=True)
    cab_xy = np.array([np.array(dp_xy)[cab_of_dp == i].mean(0) for i in range(cab_ids.size)])
    cab_node = nearest_node(cab_xy)
    # drop-limit violations: network distance DP node -> premises node, plus the drop
    dist = {}
    for d in range(n_dp):
        dist[d] = nx.single_source_dijkstra_path_length(T, int(dp_node[d]), weight="length_m")
    along = np.array([dist[dp_of[i]][int(pnode[i])] + drop[i] for i in range(len(prem))])
    violations = int((along > plan.trench_rules.max_drop_m + 1e-6).sum())
    # fibres: distribution cabinet->DP (one per secondary splitter), feeder headend->cabinet
    lengths = {tuple(sorted(e)): T.edges[e]["length_m"] for e in T.edges}
    dist_f, feed_f = dict.fromkeys(lengths, 0), dict.fromkeys(lengths, 0)
    splitters = np.bincount(dp_of, minlength=n_dp)
    splitters = np.ceil(splitters / rules.secondary_split).astype(int)
    for d in range(n_dp):
        path = nx.shortest_path(T, int(cab_node[cab_of_dp[d]]), int(dp_node[d]), weight="length_m")
        for a, b in itertools.pairwise(path):
            dist_f[tuple(sorted((a, b)))] += splitters[d]
    for c in range(cab_ids.size):
        prim = math.ceil(splitters[cab_of_dp == c].sum() / rules.primary_split)
        path = nx.shortest_path(T, tg.headend_node, int(cab_node[c]), weight="length_m")
        for a, b in itertools.pairwise(path):
            feed_f[tuple(sorted((a, b)))] += prim
    cab_cost_d, m_d = _cable_cost(dist_f, lengths, rules, book)
    cab_cost_f, m_f = _cable_cost(feed_f, lengths, rules, book)
    # chambers: DPs, cabinets, branch nodes and spacing, counted as in the design
    # (branch, spacing and headend chambers as in fibreplan's design on the same tree)
    kinds = plan.design.summary()["chamber_count_by_kind"]
    shared = sum(kinds.get(k, 0) for k in ("branch", "spacing", "headend"))
    chambers = len(set(dp_node.tolist()) | set(cab_node.tolist())) + shared
    boq = plan.costing.boq.set_index("item")["cost_gbp"]
    common = boq.drop(
        [
            i
            for i in boq.index
            if i.startswith(("cable", "distribution points", "street cabinets", "chambers"))
        ]
    ).sum()
    total = (common + n_dp * book.dp_gbp + cab_ids.size * book.cabinet_gbp
             + chambers * book.chamber_gbp + cab_cost_d + cab_cost_f)  # fmt: skip
    return {"dps": n_dp, "cabinets": int(cab_ids.size), "chambers": chambers,
            "cable_m": m_d + m_f, "cable_gbp": cab_cost_d + cab_cost_f, "total_gbp": total,
            "drop_violations": violations}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tiny", action="store_true")
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    path = fibreplan.demo_path(tiny=args.tiny)
    t0 = time.perf_counter()
    plan = fibreplan.plan(path, path, method="heuristic")
    print(f"embedded town: {plan.summary['premises_connected']} premises connected, "
          f"plan in {time.perf_counter() - t0:.1f} s")  # fmt: skip
    s = plan.summary
    boq = plan.costing.boq
    cable_gbp = boq.loc[boq["item"].str.startswith("cable,"), "cost_gbp"].sum()
    print(f"{'design':<28}{'DPs':>6}{'cabs':>6}{'chambers':>10}{'cable m':>10}"
          f"{'cable GBP':>12}{'total GBP':>14}{'drop>limit':>12}")  # fmt: skip
    print(f"{'fibreplan (tree partition)':<28}{s['dp_count']:>6}{s['cabinet_count']:>6}"
          f"{s['chamber_count']:>10}{sum(s['cable_m_by_size'].values()):>10.0f}"
          f"{cable_gbp:>12,.0f}{s['cost_total_gbp']:>14,.0f}{0:>12}")  # fmt: skip
    totals = []
    for seed in range(args.seeds):
        k = kmeans_design(plan, seed=seed)
        totals.append(k["total_gbp"])
        print(f"{f'k-means (seed {seed})':<28}{k['dps']:>6}{k['cabinets']:>6}{k['chambers']:>10}"
              f"{k['cable_m']:>10.0f}{k['cable_gbp']:>12,.0f}{k['total_gbp']:>14,.0f}"
              f"{k['drop_violations']:>12}")  # fmt: skip
    print(f"k-means mean total GBP {np.mean(totals):,.0f}; fibreplan is "
          f"{(s['cost_total_gbp'] / np.mean(totals) - 1) * 100:+.2f} % and has no drop-limit "
          "violation by construction")  # fmt: skip


if __name__ == "__main__":
    main()
