"""The underground: a synthetic Soviet society, its copying network and the lineage of every copy.

>>> from izdat.underground import load_scenario, build_society, simulate
>>> society = build_society(2000, load_scenario(), seed=1)
>>> history = simulate(society, load_scenario(), seed=1)

The ranges every entry point accepts are in :data:`LIMITS` (from ``izdat.underground.limits``), for
front ends to offer and check the same ones.
"""

from izdat.underground.errors import LineageError, SpreadError
from izdat.underground.limits import LIMITS
from izdat.underground.listen import listen
from izdat.underground.scenario import Scenario, default_scenario, load_scenario
from izdat.underground.simulate import History, simulate
from izdat.underground.society import Society, build_society, recorders_in_circulation

__all__ = ["Scenario", "load_scenario", "default_scenario", "Society", "build_society",
           "recorders_in_circulation", "History", "simulate", "listen", "LIMITS", "SpreadError",
           "LineageError"]
