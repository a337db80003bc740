"""The tape deck: magnitizdat, copy after copy.

Machines are configured objects, media are values::

    deck = TapeDeck("elektronika-302", seed=1)
    tape = deck.record(audio)                  # Audio -> Tape
    copy = deck.dub(tape, onto=TapeDeck("sony-tc-260", seed=2))
    heard = TapeDeck("sony-tc-260", seed=2).play(copy)   # Tape -> Audio
    TapeDeck("elektronika-302", tape="tdk-ad")          # another tape in it (``TAPES``)
    old = store(tape, years=10)                # print-through grows on the shelf

See docs/tape.md for the physics, the presets and their sources.
"""

from izdat.tape.deck import Tape, TapeDeck, TapeError
from izdat.tape.formulations import TAPES, TapeFormulation, store, tape_names
from izdat.tape.presets import PRESETS, DeckPreset, preset_names

__all__ = ["Tape", "TapeDeck", "TapeError", "DeckPreset", "PRESETS", "preset_names",
           "TapeFormulation", "TAPES", "tape_names", "store"]
