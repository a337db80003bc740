"""A transmission scan of a V-groove cut in film (lit from behind, as a film scanner or light box
sees it): the groove's two walls refract light out of the lens's reach and show dark, its narrow
flat bottom passes light and shows brighter than the film around it.

Assumed levels (light units, 0…1; stated assumptions, not measurements): film 0.50, walls 0.12,
bottom 0.80, the bottom 35 % of the groove's top width; blur σ 1.1 px (the issue's example of a
transmission scan), white noise σ 0.02 with film grain σ 0.015 over 1.5 px, a radial light-box
falloff of 12 % to the corners; 16-bit TIFF (deflate) by default.
"""

from __future__ import annotations

import numpy as np

from . import Cut, draw, finish, pixel_profile


class Shade:
    """The cross-section of a back-lit V-groove of top width ``width_px`` (px)."""

    background = 0.50
    wall, bottom, bottom_share = 0.12, 0.80, 0.35

    def __init__(self, width_px: float, blur_px: float):
        half = width_px / 2

        def fn(u):
            a = np.abs(u)
            return np.where(a < self.bottom_share * half, self.bottom, np.where(a < half, self.wall, self.background))
        self.grid, self.values = pixel_profile(fn, half, blur_px)

    def __call__(self, u, phi, rho):
        return np.interp(u, self.grid, self.values, left=self.background, right=self.background)


def picture(cut: Cut, *, seed: int = 1, blur_px: float = 1.1) -> np.ndarray:
    """The scan (float32, 0…1) of ``cut`` lit from behind."""
    img = draw(cut, Shade(cut.width_um * 1e-6 * cut.px_per_m, blur_px), blur_px=blur_px)
    return finish(img, noise=0.02, seed=seed,
                  gradient=lambda y, x: 1.0 - 0.12 * ((x - 0.5) ** 2 + (y - 0.5) ** 2) * 2)


FORMAT = "tif16-deflate"
