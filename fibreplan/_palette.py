"""The colours of a plan, declared once for the map, the QGIS styles and the figures.

Every output that draws a plan (``map.html`` in :mod:`fibreplan.maps`, the
GeoPackage's ``layer_styles`` in :mod:`fibreplan.styles`, ``plan.png`` in
:mod:`fibreplan.figures`) reads its colours from here, so that a planner sees
the same colour for the same thing in each of them.
"""

from __future__ import annotations

from fibreplan._kinds import EdgeKind

__all__ = [
    "CABINET",
    "CABLE_SIZES",
    "CHAMBER",
    "DP",
    "DROP",
    "HEADEND",
    "PREMISES",
    "STREET",
    "SUBSIDY",
    "TRENCH",
    "cable_colour",
    "category_colours",
]

#: Premises by what matters: connected, over the optical budget, unreachable (any reason).
PREMISES = {"connected": "#1e8449", "over_budget": "#ff7f0e", "unreachable": "#d62728"}

#: Trenches by ``kind`` (colour, dash pattern in pixels or None).
TRENCH: dict[str, tuple[str, str | None]] = {
    EdgeKind.DIG.value: ("#e67e22", None),
    EdgeKind.DUCT_REUSE.value: ("#2e86c1", "8 4"),
    EdgeKind.AERIAL.value: ("#16a085", "2 6"),
    EdgeKind.CROSSING.value: ("#8e44ad", None),
}

#: Standard cable sizes (fibres) and their colours (light to dark: bigger is darker).
CABLE_SIZES: dict[int, str] = {
    12: "#9ecae1",
    24: "#6baed6",
    48: "#4292c6",
    96: "#2171b5",
    144: "#08519c",
    288: "#08306b",
}

#: Point symbols: (stroke, fill).
CABINET = ("#1b2631", "#f4d03f")
DP = ("#6c3483", "#ffffff")
CHAMBER = ("#555555", "#ffffff")
HEADEND = ("#111111", "#111111")

#: Premises by subsidy-control status (fibreplan.subsidy): white (eligible) drawn white with
#: a dark ring, grey/black areas in greys, under review amber, unknown pale blue.
SUBSIDY = {
    "white": "#ffffff",
    "grey_black": "#525252",
    "grey": "#969696",
    "black": "#252525",
    "under_review": "#e6ab02",
    "unknown": "#c6dbef",
    "(none)": "#d9d9d9",
}

#: Lines without categories.
DROP = "#555555"
STREET = "#b3b3b3"

# A qualitative palette (Tableau 10) for input columns such as subsidy status or phase.
_QUALITATIVE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")  # fmt: skip


def cable_colour(size: int) -> str:
    """Return the colour of a cable of ``size`` fibres (the next standard size up).

    Parameters
    ----------
    size : int
        Fibres per cable.

    Returns
    -------
    str
        A ``#rrggbb`` colour.

    Examples
    --------
    >>> cable_colour(48), cable_colour(50) == cable_colour(96)
    ('#4292c6', True)
    """
    for standard, colour in CABLE_SIZES.items():
        if size <= standard:
            return colour
    return CABLE_SIZES[max(CABLE_SIZES)]


def category_colours(values: list[str]) -> dict[str, str]:
    """Return a colour for each distinct value of a categorical input column, in order.

    Parameters
    ----------
    values : list of str
        Distinct values, sorted as they should appear in a legend.

    Returns
    -------
    dict of str to str
        Value to ``#rrggbb`` (the ten Tableau colours, repeated past ten).
    """
    return {v: _QUALITATIVE[i % len(_QUALITATIVE)] for i, v in enumerate(values)}
