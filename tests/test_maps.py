"""Tests for fibreplan.maps: HTML content, CRS handling and a real offline browser render."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlparse

import geopandas as gpd
import pytest
from pyproj import Transformer
from shapely.geometry import LineString
from shapely.geometry import Point

from fibreplan._errors import CRSError
from fibreplan._errors import InputValidationError
from fibreplan.maps import plan_map
from fibreplan.maps import save_map

# Near Trafalgar Square, London, in British National Grid metres.
E0, N0 = 530_000.0, 180_500.0
UNREACHABLE_RED = "#d62728"
CONNECTED_GREEN = "#1e8449"
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
    m = plan_map(_synthetic_plan(), basemap=False)
    html = m.get_root().render()
    geojsons = [
        child
        for group in m._children.values()
        for child in group._children.values()
        if type(child).__name__ == "GeoJsonLayer"
    ]
    styles = {}
    for gj in geojsons:
        props = [f["properties"] for f in gj.data["features"]]
        if props and "status" in props[0]:
            status = {p["status"] for p in props}
            assert len(status) == 1
            styles[status.pop()] = gj.style
    assert styles["unreachable"]["fillColor"] == UNREACHABLE_RED
    assert styles["connected"]["fillColor"] == CONNECTED_GREEN
    assert UNREACHABLE_RED in html


def test_crs_conversion_to_wgs84() -> None:
    # Independently computed with pyproj (OSTN15-free default transform).
    expected_lon, expected_lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(E0, N0)
    assert expected_lon == pytest.approx(-0.1275, abs=0.01)  # sanity: central London
    assert expected_lat == pytest.approx(51.508, abs=0.01)
    headend = _synthetic_plan()["headend"]
    m = plan_map({"headend": headend}, basemap=False)
    coords = []
    for group in m._children.values():
        for child in group._children.values():
            if type(child).__name__ == "GeoJsonLayer":
                coords.extend(f["geometry"]["coordinates"] for f in child.data["features"])
    assert len(coords) == 1
    lon, lat = coords[0]
    assert lon == pytest.approx(expected_lon, abs=1e-5)
    assert lat == pytest.approx(expected_lat, abs=1e-5)
    # Rounded to 6 decimals to keep files small.
    assert round(lon, 6) == lon
    assert round(lat, 6) == lat


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

    def _route(route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        if _is_local(url):
            route.continue_()  # type: ignore[attr-defined]
        else:
            blocked.append(url)
            route.abort()  # type: ignore[attr-defined]

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 700})
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
            page.route("**/*", _route)
            page.goto(html_path.as_uri(), wait_until="load")
            page.wait_for_selector(".leaflet-interactive", state="attached", timeout=10_000)
            page.wait_for_timeout(500)  # let fitBounds and the tile requests settle

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
            assert "unreachable (1)" in legend
            attribution = page.locator(".leaflet-control-attribution").text_content() or ""
            assert "© OpenStreetMap contributors" in attribution

            # Tooltips work: hovering the unreachable premises shows its reason.
            page.locator(f'path.leaflet-interactive[fill="{UNREACHABLE_RED}"]').hover(force=True)
            page.wait_for_selector(".leaflet-tooltip", timeout=5_000)
            assert "no route within 500 m" in (
                page.locator(".leaflet-tooltip").text_content() or ""
            )
            page.mouse.move(5, 350)

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
    assert shot.stat().st_size > 10_000
