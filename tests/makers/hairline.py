"""A laser-engraved record: the groove is a dark hairline (a burnt kerf, Gaussian across, 30 µm
full width at half depth by default) on a light ground (paper, card or acrylic backed white).

Assumed levels (light units): ground 0.85, the kerf's middle 0.15 (depth 0.70); blur σ 0.6 px,
white noise σ 0.03 as a paper texture (grain over 2 px), a diagonal lighting gradient of 10 %; 8-bit
PNG by default. Laser generators cut constant amplitude (no equalisation).
"""

from __future__ import annotations

import numpy as np

from . import Cut, draw, finish, pixel_profile

FWHM = 2 * np.sqrt(2 * np.log(2))       #: full width at half maximum of a Gaussian, in σ


class Shade:
    """A Gaussian dark hairline of full width ``fwhm_px`` (px) at half depth."""

    background, depth = 0.85, 0.70

    def __init__(self, fwhm_px: float, blur_px: float):
        sigma = fwhm_px / FWHM
        self.grid, self.values = pixel_profile(lambda u: self.background - self.depth * np.exp(-0.5 * (u / sigma) ** 2),
                                               4 * sigma, blur_px)

    def __call__(self, u, phi, rho):
        return np.interp(u, self.grid, self.values, left=self.background, right=self.background)


def picture(cut: Cut, *, seed: int = 3, blur_px: float = 0.6, fwhm_um: float = 30.0) -> np.ndarray:
    """The picture (float32, 0…1) of ``cut`` engraved as a hairline (``cut.width_um`` is not used)."""
    img = draw(cut, Shade(fwhm_um * 1e-6 * cut.px_per_m, blur_px), blur_px=blur_px)
    return finish(img, noise=0.03, grain_px=0.8, seed=seed,
                  gradient=lambda y, x: 0.95 - 0.10 * (x + y) / 2)


FORMAT = "png8"
