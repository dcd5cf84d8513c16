"""Reader for the SteinLib STP text format.

The format is described at the SteinLib library (Koch, Martin & Voß 2001): a
file is a sequence of ``SECTION <name> ... END`` blocks; the ``Graph`` section
holds ``Nodes n``, ``Edges m`` and ``E u v w`` lines, the ``Terminals``
section holds ``Terminals k`` and ``T v`` lines. Nodes are numbered from 1.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fibreplan._errors import InputValidationError
from fibreplan.optimise._graph import canonical_csr

__all__ = ["parse_stp", "read_stp"]

logger = logging.getLogger(__name__)


def _bad(where: str, lineno: int, what: str) -> InputValidationError:
    return InputValidationError(f"{where}, line {lineno}: {what}")


def parse_stp(text: str, *, source: str = "<string>") -> tuple[sp.csr_array, npt.NDArray[np.int64]]:
    """Parse SteinLib STP text into a canonical adjacency and terminal array.

    Parameters
    ----------
    text : str
        Contents of an STP file.
    source : str, optional
        Name used in error messages (a file path).

    Returns
    -------
    A : scipy.sparse.csr_array, shape (n, n)
        Canonical symmetric adjacency (cheapest of parallel edges kept).
    terminals : numpy.ndarray of int64
        Distinct terminal indices, 0-based, in file order.

    Raises
    ------
    InputValidationError
        If the text lacks a Graph or Terminals section, a line cannot be
        parsed, a node index is outside ``1..Nodes``, a weight is not a
        positive finite number, or the declared counts disagree with the lines.

    Notes
    -----
    Keywords and section names are case-insensitive; blank lines, ``#``
    comments and unknown sections (Comment, Coordinates, ...) are skipped.
    Runs in O(size of the text).

    References
    ----------
    .. [1] T. Koch, A. Martin, S. Voß, "SteinLib: An updated library on Steiner
       tree problems in graphs", in *Steiner Trees in Industry*, Springer, 2001,
       doi:10.1007/978-1-4613-0255-1_9.
    """
    n: int | None = None
    m_declared: int | None = None
    t_declared: int | None = None
    us: list[int] = []
    vs: list[int] = []
    ws: list[float] = []
    terms: list[int] = []
    section: str | None = None
    seen: set[str] = set()
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        key = parts[0].lower()
        if section is None:
            if key == "section":
                if len(parts) < 2:
                    raise _bad(source, lineno, "SECTION without a name.")
                section = parts[1].lower()
                seen.add(section)
            elif key == "eof":
                break
            continue
        if key == "end":
            section = None
            continue
        try:
            if section == "graph":
                if key == "nodes":
                    n = int(parts[1])
                elif key in {"edges", "arcs"}:
                    m_declared = int(parts[1])
                elif key in {"e", "a"}:
                    if len(parts) < 4:
                        raise _bad(source, lineno, f"expected 'E u v w', got {line!r}.")
                    us.append(int(parts[1]))
                    vs.append(int(parts[2]))
                    ws.append(float(parts[3]))
                else:
                    raise _bad(source, lineno, f"unknown Graph keyword {parts[0]!r}.")
            elif section == "terminals":
                if key == "terminals":
                    t_declared = int(parts[1])
                elif key == "t":
                    terms.append(int(parts[1]))
                elif key in {"root", "rootp", "tp"}:
                    continue
                else:
                    raise _bad(source, lineno, f"unknown Terminals keyword {parts[0]!r}.")
        except (ValueError, IndexError) as exc:
            if isinstance(exc, InputValidationError):
                raise
            raise _bad(source, lineno, f"cannot parse {line!r} ({exc}).") from exc
    if "graph" not in seen or n is None:
        raise InputValidationError(f"{source}: no 'SECTION Graph' with a 'Nodes n' line.")
    if "terminals" not in seen or not terms:
        raise InputValidationError(f"{source}: no 'SECTION Terminals' with 'T v' lines.")
    if m_declared is not None and m_declared != len(us):
        raise InputValidationError(
            f"{source}: 'Edges {m_declared}' declared but {len(us)} 'E' lines found."
        )
    if t_declared is not None and t_declared != len(terms):
        raise InputValidationError(
            f"{source}: 'Terminals {t_declared}' declared but {len(terms)} 'T' lines found."
        )
    u = np.asarray(us, dtype=np.int64)
    v = np.asarray(vs, dtype=np.int64)
    w = np.asarray(ws, dtype=np.float64)
    t = np.asarray(terms, dtype=np.int64)
    for name, arr in (("edge endpoint", np.concatenate([u, v])), ("terminal", t)):
        if arr.size and (arr.min() < 1 or arr.max() > n):
            raise InputValidationError(
                f"{source}: {name} index out of range 1..{n} "
                f"(min={arr.min()}, max={arr.max()}); STP nodes are numbered from 1."
            )
    if w.size and (not np.all(np.isfinite(w)) or np.any(w <= 0)):
        raise InputValidationError(f"{source}: edge weights must be finite and > 0.")
    A = canonical_csr(sp.coo_array((w, (u - 1, v - 1)), shape=(n, n)))
    _, first = np.unique(t - 1, return_index=True)
    terminals = (t - 1)[np.sort(first)]
    logger.debug("read %s: %d nodes, %d edges, %d terminals", source, n, u.size, terminals.size)
    return A, terminals


def read_stp(path: str | Path) -> tuple[sp.csr_array, npt.NDArray[np.int64]]:
    """Read a SteinLib ``.stp`` file.

    Parameters
    ----------
    path : str or pathlib.Path
        File to read (UTF-8 or ASCII text).

    Returns
    -------
    A : scipy.sparse.csr_array, shape (n, n)
        Canonical symmetric adjacency; node ``i`` of the file is row ``i - 1``.
    terminals : numpy.ndarray of int64
        Distinct 0-based terminal indices.

    Raises
    ------
    InputValidationError
        If the file is malformed (see :func:`parse_stp`).
    FileNotFoundError
        If ``path`` does not exist.

    Notes
    -----
    O(file size).

    References
    ----------
    .. [1] T. Koch, A. Martin, S. Voß, "SteinLib: An updated library on Steiner
       tree problems in graphs", 2001, doi:10.1007/978-1-4613-0255-1_9.
    """
    p = Path(path)
    return parse_stp(p.read_text(encoding="utf-8", errors="replace"), source=str(p))
