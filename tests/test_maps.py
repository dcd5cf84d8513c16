"""Tests for fibreplan.maps: HTML content, CRS handling and a real offline browser render."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlparse

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import LineString
from shapely.geometry import Point

from fibreplan import _palette
from fibreplan._errors import CRSError
from fibreplan._errors import InputValidationError
from fibreplan.layers import LAYER_NAMES
from fibreplan.maps import plan_map
from fibreplan.maps import save_map

# Near Trafalgar Square, London, in British National Grid metres.
E0, N0 = 530_000.0, 180_500.0
UNREACHABLE_RED = "#d62728"
CONNECTED_GREEN = "#1e8449"
OVER_BUDGET_ORANGE = "#ff7f0e"
XSS = '<img src=x onerror="window.fibreplan_xss=1">'
LAYER_LABELS = {
    "premises": "Premises",
    "trenches": "Trenches",
    "drops": "Drops",
    "headend": "Headend",
}

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _synthetic_plan() -> dict[str, gpd.GeoDataFrame]:
    """Four premises (one unreachable), three trenches, three drops and a headend."""
    premises = gpd.GeoDataFrame(
        {
            "premises_id": ["P1", "P2", "P3", "P4"],
            "class": ["residential", "business", "residential", "public"],
            "status": ["connected", "connected", "unreachable", "connected"],
            "reason": ["", "", "no route within 500 m", None],
            "dp_id": ["DP1", "DP1", None, "DP2"],
            "loss_db": [12.3, 14.0, float("nan"), 11.1],
            "extra_unknown": [1, 2, 3, 4],
        },
        geometry=[
            Point(E0 + 10, N0 + 20),
            Point(E0 + 60, N0 + 25),
            Point(E0 + 160, N0 - 60),
            Point(E0 + 100, N0 + 70),
        ],
        crs="EPSG:27700",
    )
    trenches = gpd.GeoDataFrame(
        {
            "length_m": [50.0, 40.0, 60.0],
            "cost_gbp": [5000.0, 1200.0, 6600.0],
            "surface": ["footway", "footway", "carriageway"],
            "kind": ["dig", "duct_reuse", "crossing"],
        },
        geometry=[
            LineString([(E0, N0), (E0 + 50, N0)]),
            LineString([(E0 + 50, N0), (E0 + 90, N0)]),
            LineString([(E0 + 90, N0), (E0 + 90, N0 + 60)]),
        ],
        crs="EPSG:27700",
    )
    drops = gpd.GeoDataFrame(
        {"premises_id": ["P1", "P2", "P4"], "length_m": [20.0, 25.0, 14.1]},
        geometry=[
            LineString([(E0 + 10, N0), (E0 + 10, N0 + 20)]),
            LineString([(E0 + 60, N0), (E0 + 60, N0 + 25)]),
            LineString([(E0 + 90, N0 + 60), (E0 + 100, N0 + 70)]),
        ],
        crs="EPSG:27700",
    )
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(E0, N0)
    headend = gpd.GeoDataFrame(
        {"how": ["given by user"], "lon": [lon], "lat": [lat]},
        geometry=[Point(E0, N0)],
        crs="EPSG:27700",
    )
    return {"premises": premises, "trenches": trenches, "drops": drops, "headend": headend}


def _html(layers: dict[str, gpd.GeoDataFrame], **kwargs: object) -> str:
    return plan_map(layers, **kwargs).get_root().render()  # type: ignore[arg-type]


def _data(html: str) -> dict:
    """Return the map's ``fibreplan_data`` (the layers as the page's script draws them)."""
    match = re.search(r'<script type="application/json" id="fibreplan-data">(.*?)</script>', html,
                      re.DOTALL)
    assert match is not None
    return json.loads(match.group(1).replace("<\\/", "</"))


def _column(part: dict, name: str) -> list:
    col = part["cols"][name]
    return col["v"] if "v" in col else [col["u"][c] for c in col["c"]]


# --------------------------------------------------------------------------- unit tests


def test_layer_names_legend_and_attribution_in_html() -> None:
    html = _html(_synthetic_plan(), title="Test plan <Soho>")
    for label in LAYER_LABELS.values():
        assert label in html
    assert "OpenStreetMap" in html
    assert "contributors" in html
    assert "fibreplan-legend" in html
    assert "Test plan &lt;Soho&gt;" in html  # title escaped, not injected


def test_unreachable_premises_are_red_and_connected_green() -> None:
    html = _html(_synthetic_plan(), basemap=False)
    premises = next(layer for layer in _data(html)["layers"] if layer["id"] == "premises")
    styles = {}
    for part in premises["parts"]:
        status = set(_column(part, "status"))
        assert len(status) == 1
        styles[status.pop()] = part["style"]
    assert styles["unreachable"]["fillColor"] == UNREACHABLE_RED
    assert styles["connected"]["fillColor"] == CONNECTED_GREEN
    assert "unreachable (no route within 500 m) (1)" in html


def test_over_budget_premises_are_their_own_colour() -> None:
    layers = _synthetic_plan()
    layers["premises"]["loss_violation"] = [False, True, False, False]
    premises = next(
        layer for layer in _data(_html(layers))["layers"] if layer["id"] == "premises"
    )
    by_colour = {p["style"]["fillColor"]: _column(p, "premises_id") for p in premises["parts"]}
    assert by_colour[OVER_BUDGET_ORANGE] == ["P2"]
    assert by_colour[CONNECTED_GREEN] == ["P1", "P4"]
    assert by_colour[UNREACHABLE_RED] == ["P3"]


def test_coordinates_are_integers_of_a_micro_degree() -> None:
    expected_lon, expected_lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(E0, N0)
    data = _data(_html({"headend": _synthetic_plan()["headend"]}, basemap=False))
    (part,) = data["layers"][0]["parts"]
    x, y = part["xy"]
    assert isinstance(x, int)
    assert (x + data["origin"][0]) / data["scale"] == pytest.approx(expected_lon, abs=1e-6)
    assert (y + data["origin"][1]) / data["scale"] == pytest.approx(expected_lat, abs=1e-6)


def test_lines_keep_every_vertex_and_offsets() -> None:
    data = _data(_html(_synthetic_plan(), basemap=False))
    drops = next(layer for layer in data["layers"] if layer["id"] == "drops")
    (part,) = drops["parts"]
    assert part["off"] == [0, 2, 4, 6]
    assert len(part["xy"]) == 12


def test_trench_width_grows_with_fibres_and_crossings_are_labelled() -> None:
    layers = _synthetic_plan()
    layers["trenches"]["edge_id"] = [0, 1, 2]
    layers["cables"] = gpd.GeoDataFrame(
        {"edge_id": [0, 1, 2], "size": [12, 48, 288], "fibres_used": [4, 40, 250],
         "cable_type": "feeder"},
        geometry=layers["trenches"].geometry.to_numpy(),
        crs="EPSG:27700",
    )
    layers["drops"]["crosses_road"] = [True, True, False]
    html = _html(layers, summary={"road_crossings": 3, "loss_violations": 0, "max_loss_db": 14})
    trenches = next(layer for layer in _data(html)["layers"] if layer["id"] == "trenches")
    width = {}
    for part in trenches["parts"]:
        for fibres, w in zip(_column(part, "fibres"), part["w"], strict=True):
            width[int(fibres)] = w
    assert width[4] < width[40] < width[250]
    # 1 crossing trench on the route + 2 shared drop crossings = the summary's 3
    assert "Road crossings: 1 on the route (trenches) + 2 shared drop crossings" in html
    assert "= 3 in the summary" in html
    cables = next(layer for layer in _data(html)["layers"] if layer["id"] == "cables")
    assert [p["style"]["color"] for p in cables["parts"]] == [
        _palette.CABLE_SIZES[s] for s in (12, 48, 288)
    ]


def test_input_text_is_escaped() -> None:
    layers = _synthetic_plan()
    layers["trenches"]["street_name"] = [XSS, "High St", "A & B"]
    layers["premises"]["reason"] = ["", "", XSS, None]
    html = _html(layers)
    assert "<img" not in html.replace("&lt;img", "")
    assert "&lt;img src=x onerror=" in html


def test_subsidy_status_and_phase_are_layers_when_present() -> None:
    layers = _synthetic_plan()
    layers["premises"]["subsidy_status"] = ["white", "grey", "white", "black"]
    layers["premises"]["phase"] = [1, 1, 2, 2]
    data = _data(_html(layers))
    ids = {layer["id"]: layer for layer in data["layers"]}
    assert not ids["subsidy_status"]["show"]
    values = [v for p in ids["subsidy_status"]["parts"] for v in _column(p, "subsidy_status")]
    assert sorted(values) == ["black", "grey", "white", "white"]
    by_status = {_column(p, "subsidy_status")[0]: p["style"]["fillColor"]
                 for p in ids["subsidy_status"]["parts"]}
    assert by_status["white"] == _palette.SUBSIDY["white"]
    layers["premises"]["phase"] = pd.array([10, 2, None, 1], dtype="Int64")
    phases = {layer["id"]: layer for layer in _data(_html(layers))["layers"]}["phase"]
    # phases in number order (10 after 2), premises in no phase last
    assert [_column(p, "phase")[0] for p in phases["parts"]] == ["1", "2", "10", ""]


def test_large_plans_draw_details_from_a_zoom_level(monkeypatch) -> None:
    import fibreplan.maps as maps

    monkeypatch.setattr(maps, "_DETAIL_LIMIT", 5)
    layers = _synthetic_plan()
    layers["premises"]["cabinet_id"] = pd.array([0, 0, None, 0], dtype="Int64")
    layers["premises"]["loss_violation"] = [False, True, False, False]
    layers["cabinets"] = gpd.GeoDataFrame(
        {"cabinet_id": [0]}, geometry=[Point(E0 + 50, N0)], crs="EPSG:27700"
    )
    data = _data(_html(layers))
    ids = {layer["id"]: layer for layer in data["layers"]}
    detail = {p["style"]["fillColor"]: p["detail"] for p in ids["premises"]["parts"]}
    # problems (over budget, unreachable) are always drawn; the rest from the zoom level
    assert detail == {CONNECTED_GREEN: True, OVER_BUDGET_ORANGE: False, UNREACHABLE_RED: False}
    assert [p["detail"] for p in ids["drops"]["parts"]] == [True]
    (area,) = ids["cabinet_areas"]["parts"]
    assert _column(area, "premises_count") == ["3"]
    assert _column(area, "over_budget") == ["1"]


def test_empty_and_missing_layers_are_skipped() -> None:
    plan = _synthetic_plan()
    plan["cables"] = plan["trenches"].iloc[0:0]
    plan["dps"] = None  # type: ignore[assignment]
    html = _html(plan, basemap=False)
    assert "Cables" not in html
    assert "Distribution points" not in html
    assert "Premises" in html


def test_no_tile_layer_without_basemap() -> None:
    assert "tile.openstreetmap.org" not in _html(_synthetic_plan(), basemap=False)
    assert "tile.openstreetmap.org" in _html(_synthetic_plan(), basemap=True)


def test_no_cdn_links_in_html() -> None:
    html = _html(_synthetic_plan(), basemap=True)
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+stylesheet", html)
    assert "L.map(" in html
    assert len(html) < 400_000  # only Leaflet is inlined, not Bootstrap/jQuery/Font Awesome


@pytest.mark.parametrize("crs", ["EPSG:4326", None])
def test_geographic_or_missing_crs_raises(crs: str | None) -> None:
    bad = gpd.GeoDataFrame(
        {"premises_id": ["P1"], "status": ["connected"]},
        geometry=[Point(-0.1275, 51.508)],
        crs=crs,
    )
    with pytest.raises(CRSError, match="premises"):
        plan_map({"premises": bad})


def test_non_geodataframe_raises() -> None:
    with pytest.raises(InputValidationError, match="GeoDataFrame"):
        plan_map({"premises": [1, 2, 3]})  # type: ignore[dict-item]


def test_save_map_writes_utf8_html(tmp_path: Path) -> None:
    out = save_map(plan_map(_synthetic_plan(), basemap=False), tmp_path / "plan.html")
    assert out == tmp_path / "plan.html"
    text = out.read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html>")
    assert "Premises" in text


# --------------------------------------------------------------------------- browser test


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None and Path("/usr/bin/chromium").exists():
        path = "/usr/bin/chromium"
    if path is None:
        msg = "no chromium binary on PATH; install it with `apt-get install chromium`"
        if os.environ.get("FIBREPLAN_REQUIRE_BROWSER"):
            pytest.fail(msg + " (FIBREPLAN_REQUIRE_BROWSER is set, as in CI)")
        pytest.skip(msg)
    return path


def _is_local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in {"file", "data", "blob", "about"} or parsed.hostname in {
        "127.0.0.1",
        "localhost",
    }


def _open(pw: object, executable: str, html_path: Path, blocked: list[str],
          page_errors: list[str]) -> tuple[object, object]:
    """Open ``html_path`` in headless Chromium with every non-local request blocked."""

    def _route(route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        if _is_local(url):
            route.continue_()  # type: ignore[attr-defined]
        else:
            blocked.append(url)
            route.abort()  # type: ignore[attr-defined]

    browser = pw.chromium.launch(  # type: ignore[attr-defined]
        executable_path=executable, headless=True, args=CHROMIUM_ARGS
    )
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    page.route("**/*", _route)
    page.goto(html_path.as_uri(), wait_until="load")
    page.wait_for_function("window.fibreplan && window.fibreplan.ready", timeout=20_000)
    page.wait_for_timeout(300)  # let fitBounds and the tile requests settle
    return browser, page


def _pixel_spread(png: Path) -> float:
    """Return the standard deviation of a screenshot's grey levels (0 for a blank page)."""
    from PIL import Image

    return float(np.asarray(Image.open(png).convert("L"), dtype=float).std())


@pytest.mark.browser
def test_map_renders_offline_in_chromium(tmp_path: Path) -> None:
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")

    plan = _synthetic_plan()
    n_features = sum(len(g) for g in plan.values())
    n_unreachable = int((plan["premises"]["status"] == "unreachable").sum())
    html_path = save_map(plan_map(plan, title="Offline test plan"), tmp_path / "plan.html")

    blocked: list[str] = []
    page_errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser, page = _open(pw, executable, html_path, blocked, page_errors)
        try:
            assert page.evaluate("typeof window.L") == "object"
            assert page.evaluate("window.L.version").startswith("1.")
            assert page.locator(".folium-map.leaflet-container").count() == 1
            n_drawn = page.locator(".leaflet-interactive").count()
            assert n_drawn >= n_features
            n_red = page.locator(f'path.leaflet-interactive[fill="{UNREACHABLE_RED}"]').count()
            assert n_red == n_unreachable

            overlays = page.locator(".leaflet-control-layers-overlays").text_content() or ""
            for label in LAYER_LABELS.values():
                assert label in overlays
            legend = page.locator(".fibreplan-legend").text_content() or ""
            assert "Offline test plan" in legend
            assert "unreachable (no route within 500 m) (1)" in legend
            attribution = page.locator(".leaflet-control-attribution").text_content() or ""
            assert "© OpenStreetMap contributors" in attribution
            assert page.locator(".leaflet-control-scale").count() == 1
            assert page.locator(".leaflet-control-zoom-fullscreen").count() == 1
            assert page.locator(".leaflet-control-measure").count() == 1

            # Tooltips work: hovering the unreachable premises shows its reason.
            page.locator(f'path.leaflet-interactive[fill="{UNREACHABLE_RED}"]').hover(force=True)
            page.wait_for_selector(".leaflet-tooltip", timeout=5_000)
            assert "no route within 500 m" in (
                page.locator(".leaflet-tooltip").text_content() or ""
            )
            page.mouse.move(5, 350)

            # The search box finds a premises by id, offline, and opens its popup.
            box = page.locator(".fibreplan-search input")
            box.fill("P4")
            box.press("Enter")
            page.wait_for_selector(".leaflet-popup-content", timeout=5_000)
            assert "P4" in (page.locator(".leaflet-popup-content").text_content() or "")
            box.fill("no such premises")
            box.press("Enter")
            assert page.locator(".fibreplan-search-message").text_content() == "not found"

            # Toggling a layer hides its features.
            before = page.locator(f'path.leaflet-interactive[fill="{CONNECTED_GREEN}"]').count()
            assert before == 3
            page.locator(".leaflet-control-layers-overlays label", has_text="Premises").click()
            after = page.locator(f'path.leaflet-interactive[fill="{CONNECTED_GREEN}"]').count()
            assert after == 0
            assert not page.evaluate("fibreplan.map.hasLayer(fibreplan.layers.premises.group)")

            shot = tmp_path / "map.png"
            page.screenshot(path=str(shot))
        finally:
            browser.close()

    assert page_errors == []
    # Nothing but basemap tiles may have been requested from the network.
    non_tiles = [
        u for u in blocked if not re.search(r"tile\.openstreetmap\.org/\d+/\d+/\d+\.png$", u)
    ]
    assert non_tiles == []
    assert blocked, "the OSM basemap should have tried to load tiles"
    assert _pixel_spread(shot) > 10


@pytest.mark.browser
def test_saved_plan_map_matches_its_geopackage_in_chromium(tmp_path: Path) -> None:
    """A real (tiny) plan saved by save_plan: counts, over-budget colour, XSS, non-blank."""
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    import pyogrio

    import fibreplan

    streets, premises = fibreplan.demo_data(tiny=True)
    streets = streets.copy()
    streets.loc[streets.index[0], "name"] = XSS
    loose = fibreplan.plan(streets, premises)
    # a budget below the least loss of any design: premises over it (the design adapts
    # its DPs to a tighter budget, so a budget inside the loss range may leave none)
    rules = fibreplan.DesignRules(power_budget_db=float(loose.premises["loss_db"].min()) - 1)
    plan = fibreplan.plan(streets, premises, rules=rules)
    assert plan.summary["loss_violations"] > 0
    paths = plan.save(tmp_path / "out", basemap=False)

    blocked: list[str] = []
    page_errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser, page = _open(pw, executable, paths["map"], blocked, page_errors)
        try:
            counts = page.evaluate(
                "Object.fromEntries(Object.entries(fibreplan.layers).map("
                "([k, v]) => [k, [v.count, v.group.getLayers().length]]))"
            )
            for name in LAYER_NAMES:
                n = len(pyogrio.read_dataframe(paths["gpkg"], layer=name))
                assert counts[name] == [n, n], name
            assert counts["streets"][0] == len(streets)

            # Premises over the optical budget have their own colour on the map.
            over = page.locator(f'path.leaflet-interactive[fill="{OVER_BUDGET_ORANGE}"]').count()
            assert over == plan.summary["loss_violations"]
            legend = page.locator(".fibreplan-legend").text_content() or ""
            assert f"over the optical budget ({over})" in legend
            assert f"= {plan.summary['road_crossings']} in the summary" in legend

            # The street named like an XSS attack is shown as text, never run.
            page.evaluate(
                """() => { const g = fibreplan.layers.streets.group;
                const f = g.getLayers().find(l => {
                    const col = l._fp[0].cols.street_name, i = l._fp[1];
                    return (col.v ? col.v[i] : col.u[col.c[i]]).includes("onerror"); });
                f.fire("click", {latlng: f.getCenter()}, true); }"""
            )
            page.wait_for_selector(".leaflet-popup-content", timeout=5_000)
            page.wait_for_timeout(300)
            text = page.locator(".leaflet-popup-content").text_content() or ""
            assert "<img src=x onerror=" in text
            assert page.locator(".leaflet-popup-content img").count() == 0
            assert page.evaluate("typeof window.fibreplan_xss") == "undefined"

            shot = tmp_path / "demo.png"
            page.screenshot(path=str(shot))
        finally:
            browser.close()
    assert page_errors == []
    assert blocked == []  # no basemap: not even tiles
    assert _pixel_spread(shot) > 10


@pytest.mark.browser
def test_large_map_draws_details_only_when_zoomed_in_chromium(tmp_path: Path, monkeypatch) -> None:
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    import fibreplan.maps as maps

    monkeypatch.setattr(maps, "_DETAIL_LIMIT", 5)  # the synthetic plan counts as large
    layers = _synthetic_plan()
    layers["premises"]["cabinet_id"] = pd.array([0, 0, None, 0], dtype="Int64")
    layers["premises"]["loss_violation"] = [False, True, False, False]
    layers["cabinets"] = gpd.GeoDataFrame(
        {"cabinet_id": [0]}, geometry=[Point(E0 + 50, N0)], crs="EPSG:27700"
    )
    html_path = save_map(plan_map(layers, basemap=False), tmp_path / "large.html")
    blocked: list[str] = []
    page_errors: list[str] = []
    drawn = (
        "Object.fromEntries(Object.entries(fibreplan.layers).map("
        "([k, v]) => [k, v.group.getLayers().length]))"
    )
    zoom_to = """z => new Promise(done => { const m = fibreplan.map;
        m.once('moveend', () => done(m.getZoom())); m.setView(m.getCenter(), z, {animate: false});
    })"""
    with sync_api.sync_playwright() as pw:
        browser, page = _open(pw, executable, html_path, blocked, page_errors)
        try:
            assert page.evaluate(zoom_to, 18) == 18
            near = page.evaluate(drawn)
            assert page.evaluate(zoom_to, 13) == 13
            far = page.evaluate(drawn)
            merged = page.evaluate(
                "fibreplan.layers.trenches.group.getLayers().every("
                "l => l.options.interactive === false)"
            )
        finally:
            browser.close()
    assert page_errors == []
    # zoomed in: every premises, drop and trench as itself; no cabinet-area summary
    assert near["premises"] == 4
    assert near["drops"] == 3
    assert near["trenches"] == 3
    assert near["cabinet_areas"] == 0
    # zoomed out: the problems (over budget, unreachable) and the cabinet area only;
    # the trenches as merged, non-interactive lines (one per kind and width), no drops
    assert far["premises"] == 2
    assert far["drops"] == 0
    assert far["cabinet_areas"] == 1
    assert far["trenches"] == 3
    assert merged
