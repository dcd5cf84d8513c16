"""The map at any size: ``map.html`` of the demo, a 20k and a 100k-premises plan in Chromium.

Each synthetic town comes from :func:`street_instances.town_layout` (written as
files and planned like :mod:`town_cli` does, here in-process with
``method="heuristic"``); the demo is the embedded Fitzrovia district. For each
plan the script writes ``map.html`` with :func:`fibreplan.maps.plan_map` and
prints the file size, the seconds to build and write it, and the seconds
headless Chromium (Debian's ``chromium``, driven by playwright) takes to open
it (navigation until the page has loaded, its scripts have run and a frame is
drawn) and to answer a zoom-in to street level (zoom 18: premises and drops
drawn; "drawn" counts the Leaflet layers then on the map).
The target (issue 14) is at most 30 MB and 5 s to open for 100k premises.

The peer is the previous map of fibreplan (one GeoJSON ``L.geoJson`` per style,
all features drawn at once), read from git at ``--peer-rev`` and run on the same
layers in the same run, for the sizes in ``--peer-sizes`` (its 100k map takes
more than a minute to open). The planned layers are cached (pickled) in
``--cache`` so that a second run measures only the maps.

Usage::

    python benchmarks/map_scale.py                       # demo, 20k, 100k
    python benchmarks/map_scale.py --sizes 20000 --cache map-cache
"""

from __future__ import annotations

import argparse
import importlib.util
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from street_instances import town_layout
from town_cli import write_town  # the sibling script, found via sys.path

import fibreplan
from fibreplan.maps import plan_map
from fibreplan.maps import save_map

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"]  # fmt: skip


def planned_layers(size: int, cache: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the map layers and summary of the demo (``size == 0``) or a synthetic town."""
    path = cache / f"layers_{size}.pickle"
    if path.is_file():
        with path.open("rb") as f:
            return pickle.load(f)
    t0 = time.perf_counter()
    if size == 0:
        streets, premises = fibreplan.demo_data()
    else:
        folder = Path(tempfile.mkdtemp(prefix="fibreplan-map-scale-"))
        streets, premises = write_town(town_layout(size, seed=0), folder)
    plan = fibreplan.plan(streets, premises, method="heuristic")
    from fibreplan.layers import map_layers

    result = (map_layers(plan), plan.summary)
    print(f"planned {size or 'demo'}: {plan.summary['premises_total']:,} premises "
          f"in {time.perf_counter() - t0:.0f} s")  # fmt: skip
    cache.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        pickle.dump(result, f)
    return result


def peer_plan_map(rev: str) -> Any:
    """Return ``plan_map`` of fibreplan's map module at git revision ``rev`` (the peer)."""
    root = Path(__file__).resolve().parents[1]
    text = subprocess.run(["git", "-C", str(root), "show", f"{rev}:fibreplan/maps.py"],
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    path = Path(tempfile.mkdtemp(prefix="fibreplan-peer-")) / "maps_peer.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("fibreplan_maps_peer", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it runs
    spec.loader.exec_module(module)
    return module.plan_map


def load_in_chromium(html: Path, executable: str) -> tuple[float, float, int]:
    """Return seconds to open ``html``, seconds to answer a zoom to street level, features drawn."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
                       else r.abort())  # fmt: skip
            t0 = time.perf_counter()
            page.goto(html.as_uri(), wait_until="load", timeout=600_000)
            page.wait_for_function("typeof L === 'object' && document.readyState === 'complete'",
                                   timeout=600_000)  # fmt: skip
            page.evaluate("new Promise(done => requestAnimationFrame(() => done(1)))")
            opened = time.perf_counter() - t0
            t0 = time.perf_counter()
            drawn = page.evaluate("""() => new Promise(done => {
                const fp = window.fibreplan;
                const m = fp ? fp.map : Object.values(window).find(v => v instanceof L.Map);
                const count = () => fp ? fp.drawnCount()
                    : document.querySelectorAll('.leaflet-interactive').length;
                m.once('moveend', () => requestAnimationFrame(() => done(count())));
                m.setView(m.getCenter(), 18, {animate: false});
            })""")
            zoomed = time.perf_counter() - t0
        finally:
            browser.close()
    return opened, zoomed, int(drawn)


def main(argv: list[str] | None = None) -> None:
    """Plan (or load from the cache) each size, write its map and time it in Chromium."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 20_000, 100_000],
                        help="premises per synthetic town; 0 is the embedded demo")  # fmt: skip
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "fibreplan-map-scale")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None, help="keep the maps in this folder")
    parser.add_argument("--peer-rev", default="c781cc8", help="git revision of the peer map")
    parser.add_argument("--peer-sizes", type=int, nargs="*", default=[0, 20_000])
    args = parser.parse_args(argv)
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    out = args.out or Path(tempfile.mkdtemp(prefix="fibreplan-maps-"))
    out.mkdir(parents=True, exist_ok=True)
    peer = peer_plan_map(args.peer_rev)
    print(f"{'map':>6} {'plan':>7} {'premises':>9} {'features':>9} {'MB':>6} {'write s':>8} "
          f"{'open s':>7} {'zoom s':>7} {'drawn':>8}")  # fmt: skip
    for size in args.sizes:
        layers, summary = planned_layers(size, args.cache)
        makers = [("new", lambda la, s=summary: plan_map(la, summary=s, title="map scale"))]
        if size in args.peer_sizes:
            makers.append(("peer", lambda la: peer(la, title="map scale")))
        for name, make in makers:
            t0 = time.perf_counter()
            html = save_map(make(layers), out / f"map_{name}_{size or 'demo'}.html")
            write_s = time.perf_counter() - t0
            mb = html.stat().st_size / 1e6
            n_features = sum(len(g) for g in layers.values())
            opened = zoomed = float("nan")
            drawn = -1
            if executable:
                opened, zoomed, drawn = load_in_chromium(html, executable)
            shown = f"{drawn:>8,}" if name == "new" else f"{'canvas':>8}"  # peer: not countable
            print(f"{name:>6} {size or 'demo':>7} {summary['premises_total']:>9,} "
                  f"{n_features:>9,} {mb:>6.1f} {write_s:>8.1f} {opened:>7.2f} {zoomed:>7.2f} "
                  f"{shown}")  # fmt: skip
    if not executable:
        print("no chromium on PATH: load times not measured (apt-get install chromium)")


if __name__ == "__main__":
    main()
