"""izdat: roentgenizdat and magnitizdat in software.

Machines act on media: a :class:`Lathe` cuts :class:`Audio` into a :class:`Record`; the record
renders to a picture and to files for laser cutters and CNC machines.
"""

from izdat._numba_cache import ensure_numba_cache

ensure_numba_cache()  # before numba is imported: a read-only install still compiles

from izdat.audio import Audio, load, save
from izdat.tape import Tape, TapeDeck  # noqa: E402
from izdat.errors import AudioError, GrooveError, IzdatError, OutputError, PictureError
from izdat.optical import OpticalReader, load_picture, play_picture  # noqa: E402
from izdat.gramophone import Gramophone, GroovePath

__all__ = ["OpticalReader", "load_picture", "play_picture", "Gramophone", "GroovePath", "Tape", "TapeDeck", "Audio", "load", "save", "IzdatError", "AudioError", "GrooveError", "PictureError", "OutputError"]
__version__ = "0.1.0"
