"""Fast fixed-point text for millions of coordinates (compiled: Python formatting is ~20× slower)."""

from __future__ import annotations

import numba
import numpy as np


def format_points(x, y, *, decimals: int, before: bytes = b"", between: bytes = b",", after: bytes = b" ",
                  chunk: int = 0, chunk_start: bytes = b"", chunk_end: bytes = b"") -> np.ndarray:
    """Text for the points ``(x[i], y[i])``: ``before x between y after`` for each, rounded to ``decimals``.

    With ``chunk > 1`` the points are split into runs of at most ``chunk`` points, each wrapped in
    ``chunk_start`` … ``chunk_end``; consecutive runs share their joining point, so no gap opens.
    Returns the ASCII text as a uint8 array (write it to a binary file as is; ``bytes()`` copies it).
    """
    scale = 10.0 ** decimals
    xi = np.rint(np.asarray(x, np.float64) * scale).astype(np.int64)
    yi = np.rint(np.asarray(y, np.float64) * scale).astype(np.int64)
    buf = _format(xi, yi, decimals, _b(before), _b(between), _b(after), chunk if chunk > 1 else len(xi) + 1,
                  _b(chunk_start), _b(chunk_end))
    return buf


def count_points(x, y, *, decimals: int, before: bytes = b"", between: bytes = b",", after: bytes = b" ",
                 chunk: int = 0, chunk_start: bytes = b"", chunk_end: bytes = b"") -> int:
    """The length (bytes) of :func:`format_points`' text for the same arguments, without making it."""
    scale = 10.0 ** decimals
    xi = np.rint(np.asarray(x, np.float64) * scale).astype(np.int64)
    yi = np.rint(np.asarray(y, np.float64) * scale).astype(np.int64)
    n = len(xi)
    chunk = chunk if chunk > 1 else n + 1
    runs = max(1, (n - 2) // (chunk - 1) + 1) if n > 1 else 1
    joins = runs - 1                                   # points written twice: the end of one run, the start of the next
    per_point = len(before) + len(between) + len(after)
    digits = _digits(xi, decimals) + _digits(yi, decimals)
    if joins:
        shared = np.arange(1, runs) * (chunk - 1)
        digits += _digits(xi[shared], decimals) + _digits(yi[shared], decimals)
    return int(digits + (n + joins) * per_point + runs * (len(chunk_start) + len(chunk_end)))


@numba.njit(cache=True)
def _digits(values, decimals):
    """Characters of all ``values`` written as :func:`_put_fixed` writes them."""
    total = 0
    for i in range(values.shape[0]):
        value = values[i]
        if value < 0:
            total += 1
            value = -value
        digits = 1
        rest = value // 10
        while rest > 0:
            digits += 1
            rest //= 10
        total += max(digits, decimals + 1) + (1 if decimals > 0 else 0)
    return total


def _b(text: bytes) -> np.ndarray:
    return np.frombuffer(text, np.uint8) if text else np.zeros(0, np.uint8)


@numba.njit(cache=True)
def _put(buf, pos, text):
    for k in range(text.shape[0]):
        buf[pos + k] = text[k]
    return pos + text.shape[0]


@numba.njit(cache=True)
def _put_fixed(buf, pos, value, decimals):
    """Write the integer ``value`` as a decimal with ``decimals`` digits after the point."""
    if value < 0:
        buf[pos] = 45  # '-'
        pos += 1
        value = -value
    digits = 1
    rest = value // 10
    while rest > 0:
        digits += 1
        rest //= 10
    digits = max(digits, decimals + 1)
    end = pos + digits + (1 if decimals > 0 else 0)
    p = end - 1
    for k in range(digits):
        buf[p] = 48 + value % 10
        value //= 10
        p -= 1
        if k == decimals - 1:
            buf[p] = 46  # '.'
            p -= 1
    return end


@numba.njit(cache=True)
def _format(xi, yi, decimals, before, between, after, chunk, chunk_start, chunk_end):
    n = xi.shape[0]
    step = chunk - 1
    runs = max(1, (n - 2) // step + 1) if n > 1 else 1
    per_point = 2 * (22 + decimals) + before.shape[0] + between.shape[0] + after.shape[0]
    size = (n + runs) * per_point + runs * (chunk_start.shape[0] + chunk_end.shape[0])
    buf = np.empty(size, np.uint8)
    pos = 0
    start = 0
    while True:
        stop = min(n, start + chunk)
        pos = _put(buf, pos, chunk_start)
        for i in range(start, stop):
            pos = _put(buf, pos, before)
            pos = _put_fixed(buf, pos, xi[i], decimals)
            pos = _put(buf, pos, between)
            pos = _put_fixed(buf, pos, yi[i], decimals)
            pos = _put(buf, pos, after)
        pos = _put(buf, pos, chunk_end)
        if stop >= n:
            break
        start = stop - 1
    return buf[:pos]


def write_parts(path, parts):
    """Write the pieces of text ``parts`` (bytes or uint8 arrays) one after another to ``path``,
    atomically (a failure leaves no file), and return the path."""
    from pathlib import Path

    from izdat.files import atomic_path
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        for part in parts:
            f.write(part)
    return Path(path)
