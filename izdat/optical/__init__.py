"""The optical needle: play a record from its picture (scan, photo or render).

``load_picture`` reads the picture as 8-bit grey; :class:`OpticalReader` finds the spiral and
follows its groove into a :class:`Groove` (radius at every sample); ``Groove.playback`` turns the
groove into audio with a playback curve. ``play_picture`` does all three. ``read_vectors`` follows
an SVG's groove path point by point instead (a :class:`VectorGroove`).
"""

from izdat.optical._load import MAX_PIXELS, Scan, load_picture, scan_of
from izdat.optical._read import Groove, OpticalReader, RecordMeta, play_picture, read_meta
from izdat.optical._vector import VectorGroove, read_vectors

__all__ = ["MAX_PIXELS", "Scan", "load_picture", "scan_of", "Groove", "OpticalReader", "RecordMeta",
           "read_meta", "play_picture", "VectorGroove", "read_vectors"]
