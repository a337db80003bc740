"""The gramophone: hear a groove as a needle, a pickup and a turntable of the time played it.

A :class:`Gramophone` is configured once (stylus, pickup, turntable, record material, plays so
far, hole offset) and called on a :class:`~izdat.lathe.Record` or a :class:`GroovePath` (a groove
read from a picture) to give :class:`~izdat.audio.Audio`. Every effect is computed from the
groove's geometry; the modules are named for the parts of the machine:

- :mod:`~izdat.gramophone.stylus` — the spherical tip between the groove walls (tracing distortion);
- :mod:`~izdat.gramophone.surface` — material, roughness, dust, scratches and wear;
- :mod:`~izdat.gramophone.turntable` — off-centre hole, warp, speed error, arm sway and rumble;
- :mod:`~izdat.gramophone.pickup` — electric (velocity, resonance) and acoustic (soundbox and horn);
- :mod:`~izdat.gramophone.surprise` — the authorities' fake records: a few seconds, a mocking voice.

See docs/gramophone.md for the physics and its sources.
"""

from izdat.gramophone.path import GroovePath
from izdat.gramophone.stylus import STYLI_UM
from izdat.gramophone.surface import MATERIALS, Material
from izdat.gramophone.pickup import PICKUPS
from izdat.gramophone._gramophone import Gramophone
from izdat.gramophone.surprise import surprise

__all__ = ["Gramophone", "GroovePath", "Material", "MATERIALS", "PICKUPS", "STYLI_UM", "surprise"]
