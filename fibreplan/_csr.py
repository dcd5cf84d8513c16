"""Canonical weighted adjacency (CSR) shared by the trench graph and the optimiser.

Conventions (fixed once, as ``scipy.sparse.csgraph`` does):

* A graph on ``n`` nodes is a symmetric ``scipy.sparse.csr_array`` of shape
  ``(n, n)``, dtype float64, sorted indices, empty diagonal, whose stored
  entries are the edge weights.
* Weights are finite and ``>= 0``. A *stored* zero is a zero-weight edge
  (a zero-length street edge, a PACE 2018 instance); in a dense input a 0
  means "no edge", as in ``scipy.sparse.csgraph``.
* Parallel edges (duplicates, or ``A[u, v] != A[v, u]``) keep the smaller
  weight, as the cheapest of parallel edges.

numpy and scipy only: no geography, no networkx.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fibreplan._errors import InputValidationError

__all__ = ["canonical_csr"]


def canonical_csr(A: sp.sparray | sp.spmatrix | npt.ArrayLike) -> sp.csr_array:
    """Return ``A`` as the canonical symmetric CSR adjacency (weights in input units).

    Parameters
    ----------
    A : sparse matrix or array-like, shape (n, n)
        Weighted adjacency (e.g. trench cost in GBP or length in metres). In
        a sparse input every stored entry is an edge, a stored 0 included; in
        a dense input only the non-zero entries are edges.

    Returns
    -------
    scipy.sparse.csr_array
        Symmetric, float64, sorted indices, empty diagonal, cheapest parallel
        edge kept, explicit zeros kept.

    Raises
    ------
    InputValidationError
        If ``A`` is not square, or a weight is negative, NaN or infinite
        (the message names the first such entry).

    Notes
    -----
    O(m log m) for the sort that keeps the cheapest parallel edge.

    Examples
    --------
    >>> import numpy as np
    >>> canonical_csr(np.array([[0, 2.0], [3.0, 0]])).toarray().tolist()
    [[0.0, 2.0], [2.0, 0.0]]
    """
    coo = sp.coo_array(A)
    if coo.ndim != 2 or coo.shape[0] != coo.shape[1]:
        msg = f"A must be a square adjacency matrix; got shape {coo.shape}."
        raise InputValidationError(msg)
    n = coo.shape[0]
    row = np.asarray(coo.row, dtype=np.int64)
    col = np.asarray(coo.col, dtype=np.int64)
    w = np.asarray(coo.data, dtype=np.float64)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        msg = (
            f"edge weights must be finite and >= 0; A[{row[i]}, {col[i]}] = {float(w[i])!r} "
            f"({int(bad.sum())} such entries). Remove the edge or give it a real weight."
        )
        raise InputValidationError(msg)
    keep = row != col
    u = np.minimum(row[keep], col[keep])
    v = np.maximum(row[keep], col[keep])
    w = w[keep]
    # cheapest parallel edge: sort by (u, v, w) and keep the first of each pair
    order = np.lexsort((w, v, u))
    u, v, w = u[order], v[order], w[order]
    first = np.ones(u.size, dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v, w = u[first], v[first], w[first]
    # both arcs, sorted by (row, col); built directly so that explicit zeros stay stored
    rows = np.concatenate([u, v])
    cols = np.concatenate([v, u])
    data = np.concatenate([w, w])
    order = np.lexsort((cols, rows))
    idx = np.int32 if max(n, rows.size) < np.iinfo(np.int32).max else np.int64
    indptr = np.zeros(n + 1, dtype=idx)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    out = sp.csr_array((data[order], cols[order].astype(idx), indptr), shape=(n, n))
    out.has_sorted_indices = True
    return out
