"""A flatbed scan of a V-groove lit from the front by the scanner's lamp at an angle: the groove's
wall that faces the lamp shines, the other is shaded, and which is which turns with the groove's
direction around the record (at 90° to the lamp both walls show only their shared darkening).

Assumed levels (light units): film 0.45, both walls 0.10 darker, ± 0.35 × cos(angle to the lamp)
for the wall facing (inner wall, facing outward) or away; lamp along the picture's +y (the
scanner's carriage moves along y); blur σ 0.8 px, white noise σ 0.015, sensor row banding σ 0.006,
lamp falloff 15 % across x; 8-bit JPEG (quality 92) by default.
"""

from __future__ import annotations

import numpy as np

from . import Cut, draw, finish, pixel_profile


class Shade:
    """An asymmetrically lit V-groove of top width ``width_px`` (px), lamp at ``lamp_deg`` (counter-
    clockwise from +x as shown)."""

    background = 0.45
    darken, lit = 0.10, 0.35

    def __init__(self, width_px: float, blur_px: float, lamp_deg: float = -90.0):
        half = width_px / 2
        self.lamp = np.radians(lamp_deg)
        self.g, self.walls = pixel_profile(lambda u: (np.abs(u) < half).astype(float), half, blur_px)
        _, self.side = pixel_profile(lambda u: np.where(np.abs(u) < half, -np.sign(u), 0.0), half, blur_px)

    def __call__(self, u, phi, rho):
        walls = np.interp(u, self.g, self.walls, left=0.0, right=0.0)
        side = np.interp(u, self.g, self.side, left=0.0, right=0.0)
        return self.background - self.darken * walls + self.lit * np.cos(phi - self.lamp) * side


def picture(cut: Cut, *, seed: int = 2, blur_px: float = 0.8) -> np.ndarray:
    """The scan (float32, 0…1) of ``cut`` under a flatbed's lamp."""
    img = draw(cut, Shade(cut.width_um * 1e-6 * cut.px_per_m, blur_px), blur_px=blur_px)
    return finish(img, noise=0.015, row_noise=0.006, seed=seed,
                  gradient=lambda y, x: 1.0 - 0.15 * x)


FORMAT = "jpeg"
