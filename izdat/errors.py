"""One exception family for izdat: every message is one sentence a user can act on."""

__all__ = ["IzdatError", "AudioError", "GrooveError", "PictureError", "OutputError", "first_line"]


class IzdatError(Exception):
    """Base class of every error izdat raises on purpose (the CLI prints it and exits with 2)."""


class AudioError(IzdatError, ValueError):
    """Audio that cannot be used: unreadable, empty, silent, or not finite."""


class GrooveError(IzdatError, ValueError):
    """A groove that cannot be cut: out of range settings or a song longer than the side."""


class PictureError(IzdatError, ValueError):
    """A picture (X-ray, scan) that cannot be read or used."""


class OutputError(IzdatError, OSError):
    """An output that cannot be written."""


def first_line(exc: BaseException) -> str:
    """The first line of a library's exception message, without its full stop: the cause inside a sentence."""
    text = str(exc).strip().splitlines()
    return text[0].rstrip(".") if text else type(exc).__name__
