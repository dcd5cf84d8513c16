"""OSM PBF readers for streets and buildings: pyosmium (fibreplan) vs pyrosm vs QuackOSM.

Each candidate reads, from one ``.osm.pbf``, every highway way as lines and
every building as polygons with its tags — what fibreplan needs. All three run
in the same process, one after the other, ``--repeat`` times each (the first
run includes any one-off set-up such as QuackOSM's DuckDB start); the table
gives the first and the best wall time and the counts each produced.

* ``pyosmium`` is :func:`fibreplan._pbf.read_pbf` (ways already split at the
  nodes they share, buildings with ``element``/``id``/tags).
* ``pyrosm`` is ``OSM(path, engine="in_memory").get_network(network_type="all",
  nodes=True)`` plus ``get_buildings()`` (with ``nodes=True`` its edges are split
  at nodes too).
* ``quackosm`` is ``convert_pbf_to_geodataframe`` with a ``highway``/``building``
  tag filter, caching off; its ways are whole (not split) and would still need
  :func:`fibreplan._noding.node_lines`.

Usage::

    python benchmarks/pbf_readers.py                # Oxford and Rutland from ../shared/data
    python benchmarks/pbf_readers.py --repeat 5 FILE.osm.pbf ...
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fibreplan._pbf import read_pbf
from fibreplan.load import _STREET_TAGS

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_FILES = [DATA / "northeast_oxford.osm.pbf", DATA / "rutland_rutland.osm.pbf"]


def _pyosmium(path: Path) -> tuple[int, int]:
    # the street tags fibreplan's loader asks for; every building tag
    streets, buildings = read_pbf(path, street_tags=_STREET_TAGS)
    return len(streets), len(buildings)


def _pyrosm(path: Path) -> tuple[int, int]:
    import pyrosm

    # in_memory: pyrosm's default out_of_core engine fails on Rutland once geoarrow-pyarrow
    # (a QuackOSM dependency) is installed ("Field geometry has incompatible types")
    osm = pyrosm.OSM(str(path), engine="in_memory")
    _, edges = osm.get_network(network_type="all", nodes=True)
    buildings = osm.get_buildings()
    return len(edges), len(buildings)


def _quackosm(path: Path) -> tuple[int, int]:
    import quackosm

    with tempfile.TemporaryDirectory() as tmp:
        gdf = quackosm.convert_pbf_to_geodataframe(
            str(path),
            tags_filter={"highway": True, "building": True},
            working_directory=tmp,
            ignore_cache=True,
            verbosity_mode="silent",
        )
    if "tags" in gdf:
        tags = gdf["tags"]
        n_streets = int(tags.map(lambda t: "highway" in t).sum())
        n_buildings = int(tags.map(lambda t: "building" in t).sum())
    else:
        n_streets = int(gdf["highway"].notna().sum())
        n_buildings = int(gdf["building"].notna().sum())
    return n_streets, n_buildings


READERS: dict[str, Callable[[Path], tuple[int, int]]] = {
    "pyosmium": _pyosmium,
    "pyrosm": _pyrosm,
    "quackosm": _quackosm,
}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, default=DEFAULT_FILES)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    print(f"{'file':28} {'reader':9} {'first s':>8} {'best s':>8} {'streets':>8} {'buildings':>9}")
    for path in args.files:
        for name, reader in READERS.items():
            times = []
            try:
                for _ in range(args.repeat):
                    t0 = time.perf_counter()
                    n_streets, n_buildings = reader(path)
                    times.append(time.perf_counter() - t0)
            except Exception as err:
                print(f"{path.name:28} {name:9} failed: {type(err).__name__}: {str(err)[:80]}")
                continue
            print(
                f"{path.name:28} {name:9} {times[0]:8.2f} {min(times):8.2f} "
                f"{n_streets:8d} {n_buildings:9d}"
            )


if __name__ == "__main__":
    main()
