"""Write an ILLUSTRATIVE BDUK-style status release for a premises layer (not real data).

The real BDUK premises release is not in the repository. This script makes a
stand-in with the release's columns so that ``fibreplan plan --status`` can be
tried: statuses are drawn per 150 m grid cell (White 35 %, Grey/Black 50 %,
Under Review 15 %), 10 % of premises are then redrawn alone, about 5 % are
left out (they stay ``unknown``) and three UPRNs that match no premises are
added (reported as unjoined). ``current_gigabit`` is true for 80 % of
Grey/Black premises and false otherwise. The ``uprn`` column holds the
premises IDs (OSM ids for the demo). Seeded: the same input gives the same file.

Usage: ``python tests/data/illustrative_status.py PREMISES OUT.csv [--rural]``
(PREMISES: any file fibreplan reads, or ``demo`` for the embedded demo town;
``--rural`` draws White 60 %, Grey/Black 30 %, Under Review 10 % per cell).
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

import fibreplan

_STATUS = np.array(["Gigabit White", "Gigabit Grey/Black", "Gigabit Under Review"])
#: Shares of White, Grey/Black and Under Review cells (urban default; ``--rural``: 0.6/0.3/0.1).
_P = (0.35, 0.50, 0.15)
_P_RURAL = (0.60, 0.30, 0.10)
_CELL_M = 150.0
_SEED = 13


def illustrative_status(
    premises: pd.DataFrame, *, seed: int = _SEED, shares: tuple[float, ...] = _P
) -> pd.DataFrame:
    """Return an illustrative release (BDUK columns) for premises (``premises_id``, points)."""
    rng = np.random.default_rng(seed)
    x, y = premises.geometry.x.to_numpy(), premises.geometry.y.to_numpy()
    cell = np.floor(x / _CELL_M).astype(np.int64) * 1_000_003 + np.floor(y / _CELL_M).astype(
        np.int64
    )
    cells, inverse = np.unique(cell, return_inverse=True)
    status = rng.choice(3, size=cells.size, p=shares)[inverse]
    redraw = rng.random(status.size) < 0.10
    status[redraw] = rng.choice(3, size=int(redraw.sum()), p=shares)
    keep = rng.random(status.size) >= 0.05
    gigabit = (status == 1) & (rng.random(status.size) < 0.8)
    out = pd.DataFrame({
        "uprn": premises["premises_id"].astype(str).to_numpy(),
        "subsidy_control_status": _STATUS[status],
        "current_gigabit": np.where(gigabit, "true", "false"),
        "future_gigabit": np.where(status == 1, "true", "false"),
        "bduk_gis": "false",
        "bduk_vouchers": "false",
    })[keep]  # fmt: skip
    extra = pd.DataFrame({
        "uprn": ["illustrative-not-a-premises-1", "illustrative-not-a-premises-2",
                 "illustrative-not-a-premises-3"],
        "subsidy_control_status": "Gigabit White", "current_gigabit": "false",
        "future_gigabit": "false", "bduk_gis": "false", "bduk_vouchers": "false",
    })  # fmt: skip
    return pd.concat([out, extra], ignore_index=True)


if __name__ == "__main__":
    src, dest = sys.argv[1], sys.argv[2]
    gdf = fibreplan.demo_data()[1] if src == "demo" else fibreplan.load_premises(src)
    if gdf.crs is not None and gdf.crs.is_geographic:
        gdf = gdf.to_crs(gdf.estimate_utm_crs())
    shares = _P_RURAL if "--rural" in sys.argv[3:] else _P
    illustrative_status(gdf, shares=shares).to_csv(dest, index=False)
