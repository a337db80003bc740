"""Imported once by the fork server of the studio's jobs: matplotlib set to Agg (no display)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot  # noqa: E402,F401
