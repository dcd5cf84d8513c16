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
        parsed, a node index is outside ``1..Nodes``, a weight is negative,
        NaN or infinite, or the declared counts disagree with the lines.
        A weight of 0 is a zero-weight edge (PACE 2018 instances have them).

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
    r = _StpLines(source)
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if line and not r.feed(line, lineno):
            break
    return r.instance()


class _StpLines:
    """Line-by-line state of :func:`parse_stp`: the open section and what was read."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.n: int | None = None
        self.m_declared: int | None = None
        self.t_declared: int | None = None
        self.us: list[int] = []
        self.vs: list[int] = []
        self.ws: list[float] = []
        self.terms: list[int] = []
        self.section: str | None = None
        self.seen: set[str] = set()

    def feed(self, line: str, lineno: int) -> bool:
        """Read one non-blank line; False at ``EOF``."""
        parts = line.split()
        key = parts[0].lower()
        if self.section is None:
            if key == "section":
                if len(parts) < 2:
                    raise _bad(self.source, lineno, "SECTION without a name.")
                self.section = parts[1].lower()
                self.seen.add(self.section)
            return key != "eof"
        if key == "end":
            self.section = None
            return True
        try:
            if self.section == "graph":
                self._graph_line(parts, key, line, lineno)
            elif self.section == "terminals":
                self._terminal_line(parts, key, lineno)
        except InputValidationError:
            raise
        except (ValueError, IndexError) as exc:
            raise _bad(self.source, lineno, f"cannot parse {line!r} ({exc}).") from exc
        return True

    def _graph_line(self, parts: list[str], key: str, line: str, lineno: int) -> None:
        if key == "nodes":
            self.n = int(parts[1])
        elif key in {"edges", "arcs"}:
            self.m_declared = int(parts[1])
        elif key in {"e", "a"}:
            if len(parts) < 4:
                raise _bad(self.source, lineno, f"expected 'E u v w', got {line!r}.")
            self.us.append(int(parts[1]))
            self.vs.append(int(parts[2]))
            self.ws.append(float(parts[3]))
        else:
            raise _bad(self.source, lineno, f"unknown Graph keyword {parts[0]!r}.")

    def _terminal_line(self, parts: list[str], key: str, lineno: int) -> None:
        if key == "terminals":
            self.t_declared = int(parts[1])
        elif key == "t":
            self.terms.append(int(parts[1]))
        elif key not in {"root", "rootp", "tp"}:
            raise _bad(self.source, lineno, f"unknown Terminals keyword {parts[0]!r}.")

    def _check_counts(self) -> int:
        source = self.source
        if "graph" not in self.seen or self.n is None:
            raise InputValidationError(f"{source}: no 'SECTION Graph' with a 'Nodes n' line.")
        if "terminals" not in self.seen or not self.terms:
            raise InputValidationError(f"{source}: no 'SECTION Terminals' with 'T v' lines.")
        if self.m_declared is not None and self.m_declared != len(self.us):
            raise InputValidationError(
                f"{source}: 'Edges {self.m_declared}' declared but {len(self.us)} 'E' lines found."
            )
        if self.t_declared is not None and self.t_declared != len(self.terms):
            raise InputValidationError(
                f"{source}: 'Terminals {self.t_declared}' declared but {len(self.terms)} "
                "'T' lines found."
            )
        return self.n

    def instance(self) -> tuple[sp.csr_array, npt.NDArray[np.int64]]:
        n = self._check_counts()
        source = self.source
        u = np.asarray(self.us, dtype=np.int64)
        v = np.asarray(self.vs, dtype=np.int64)
        w = np.asarray(self.ws, dtype=np.float64)
        t = np.asarray(self.terms, dtype=np.int64)
        for name, arr in (("edge endpoint", np.concatenate([u, v])), ("terminal", t)):
            if arr.size and (arr.min() < 1 or arr.max() > n):
                raise InputValidationError(
                    f"{source}: {name} index out of range 1..{n} "
                    f"(min={arr.min()}, max={arr.max()}); STP nodes are numbered from 1."
                )
        if w.size and (not np.all(np.isfinite(w)) or np.any(w < 0)):
            raise InputValidationError(f"{source}: edge weights must be finite and >= 0.")
        # stored entries, zeros included: a zero-weight line is a zero-weight edge
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
