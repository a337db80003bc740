"""The coarse track, its bands found a window of radii at a time: the same track as with whole rays."""

from __future__ import annotations

import numpy as np
import pytest

from izdat.optical import _coarse

SIZE, R0, R1, PITCH, WIDTH = 1300, 600.0, 450.0, 10.0, 5.0


def _spiral(groove=132, land=30):
    """A counter-clockwise spiral groove (grey ``groove`` on ``land``, ``WIDTH`` px wide) from ``R0``
    at angle 0 in to ``R1`` px, ``PITCH`` px a turn, about the picture's centre."""
    y, x = np.mgrid[:SIZE, :SIZE].astype(np.float64)
    c = SIZE / 2
    r = np.hypot(x - c, y - c)
    u = (R0 - r) / PITCH - (np.arctan2(c - y, x - c) % (2 * np.pi)) / (2 * np.pi)   # turns from the start
    on = (np.abs(u - np.round(u)) * PITCH < WIDTH / 2) & (u > -0.5) & (r > R1)
    return np.where(on, groove, land).astype(np.uint8), r, np.arctan2(c - y, x - c)


def _track(img, monkeypatch, window_bands):
    monkeypatch.setattr(_coarse, "WINDOW_BANDS", window_bands)
    return _coarse.coarse_track(img, SIZE / 2, SIZE / 2, 0.0, 1.0, 1000, R0, WIDTH, PITCH - WIDTH, r_end=R1 - 20)


def _same(a, b):
    return a.B == b.B and all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ("R", "found", "land", "top"))


@pytest.mark.parametrize("window_bands", [1, 3])
def test_small_windows_follow_the_same_track_as_whole_rays(monkeypatch, window_bands):
    """Windows of a band or three (many windows; bands dropped and buffers grown on the way) give, to
    the bit, the track found with each ray in one window; it follows the spiral's 15 turns and stops."""
    img, _, _ = _spiral()
    whole = _track(img, monkeypatch, 500)
    windowed = _track(img, monkeypatch, window_bands)
    assert _same(whole, windowed)
    turns = len(whole.R) / whole.B
    assert 14 < turns < 17
    assert whole.found[: 14 * whole.B].mean() > 0.99


@pytest.mark.parametrize("window_bands", [1, 3])
def test_a_strong_ring_inside_raises_the_threshold_of_the_outer_windows(monkeypatch, window_bands):
    """A faint groove and, inside it, a bright arc over a quarter turn: on the arc's rays the threshold
    (a fifth of the strongest response) drops the groove's bands, though the outer windows are linked
    before the arc is seen; the track is followed again with the thresholds known."""
    img, r, th = _spiral(groove=45)
    arc = (np.abs(r - (R1 - 10)) < 3) & (th > np.pi / 2) & (th < np.pi)
    img[arc] = 255
    whole = _track(img, monkeypatch, 500)
    windowed = _track(img, monkeypatch, window_bands)
    assert _same(whole, windowed)
    found = whole.found[: 10 * whole.B].reshape(10, whole.B)
    ray = np.arange(whole.B) / whole.B
    on_arc = (ray > 0.26) & (ray < 0.49)
    assert not found[:, on_arc].any()
    assert found[:, (ray < 0.24) | (ray > 0.51)].mean() > 0.99


def test_followed_a_few_turns_at_a_time_the_track_is_the_same():
    """Linked a turn and a half at a time and the rays a turn behind dropped as it goes (what the
    fine fit does ring by ring), the track is, to the bit, the one linked in one go; the rays held
    never exceed what was asked for."""
    img, _, _ = _spiral()
    whole = _coarse.coarse_track(img, SIZE / 2, SIZE / 2, 0.0, 1.0, 1000, R0, WIDTH, PITCH - WIDTH, r_end=R1 - 20)
    c = _coarse.CoarseTrack(img, SIZE / 2, SIZE / 2, 0.0, 1.0, 1000, R0, WIDTH, PITCH - WIDTH, r_end=R1 - 20)
    R, held = [], 0
    while not c.done:
        c.advance(c.linked + 3 * c.B // 2)
        stop = c.linked
        R.append(c.R[len(np.concatenate(R)) - c.base if R else 0:stop - c.base].copy())
        held = max(held, len(c.R))
        c.release(stop - c.B)
    assert np.array_equal(np.concatenate(R), whole.R)
    assert held <= 3 * c.B
