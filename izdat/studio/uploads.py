"""Uploads: streamed to disk under a size limit, their type checked by content, kept under random ids.

An upload is ``DATA/uploads/<id>/data`` plus ``meta.json`` (kind, format, original name, size). The
original name is only shown, never used as a path. A refused upload leaves nothing behind: the
bytes go to a hidden ``.part-*`` file that is removed on any error.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

from izdat.studio.jobs import new_id, valid_id

__all__ = ["UploadError", "UploadStore", "sniff", "KINDS"]

#: What may be uploaded: audio (a song), image (a record's picture or an X-ray, DICOM included),
#: json (a record.json that pins a picture's geometry).
KINDS = ("audio", "image", "json")


class UploadError(Exception):
    """An upload refused: ``status`` is the HTTP status, the message one sentence for the user."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def sniff(head: bytes) -> str | None:
    """The format of a file from its first bytes (at least 132 of them when available), or ``None``."""
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"FORM") and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"II*\x00") or head.startswith(b"MM\x00*"):
        return "tiff"
    if head[128:132] == b"DICM":
        return "dicom"
    if head.lstrip()[:1] == b"{":
        return "json"
    return None


_AUDIO = {"wav", "flac", "ogg", "aiff", "mp3"}
_IMAGE = {"png", "jpeg", "tiff", "dicom"}


class UploadStore:
    """Uploaded files of one studio data folder."""

    def __init__(self, data_dir: Path, *, max_bytes: int):
        self.root = Path(data_dir) / "uploads"
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_bytes = int(max_bytes)
        #: Uploads still arriving: a key of each -> its kind, shown name, bytes received and length.
        self.arriving: dict[str, dict] = {}
        for stale in self.root.glob(".part-*"):      # left by a studio that was killed mid-upload
            stale.unlink(missing_ok=True)

    async def receive(self, kind: str, chunks, *, name: str = "", length: int | None = None,
                      room: int | None = None, full=None) -> dict:
        """Store an upload from an async iterator of byte chunks; returns its meta data.

        ``room`` is how many bytes the data folder may still take (``None``: no bound) and
        ``full()`` the sentence that says it is full. Raises :class:`UploadError` (400 empty or
        unknown kind, 413 too big, 415 wrong type, 507 no room left in the data folder).
        """
        if kind not in KINDS:
            raise UploadError(400, f"unknown upload kind {str(kind)[:40]!r}; choose one of {', '.join(KINDS)}")
        if length is not None and length > self.max_bytes:
            raise UploadError(413, f"the file is {length / 2**20:.1f} MiB, more than the "
                                   f"{self.max_bytes / 2**20:.0f} MiB the studio accepts")

        def no_room():
            return UploadError(507, full() if full else "the studio's data folder is full")
        if room is not None and length is not None and length > room:
            raise no_room()
        fd, part = tempfile.mkstemp(prefix=".part-", dir=self.root)
        part = Path(part)
        size = 0
        arriving = {"kind": kind, "name": _display_name(name), "received": 0, "length": length}
        self.arriving[part.name] = arriving
        try:
            with os.fdopen(fd, "wb") as handle:
                async for chunk in chunks:
                    size += len(chunk)
                    arriving["received"] = size
                    if size > self.max_bytes:
                        raise UploadError(413, f"the file is larger than the {self.max_bytes / 2**20:.0f} MiB "
                                               f"the studio accepts")
                    if room is not None and size > room:
                        raise no_room()
                    handle.write(chunk)
            if size == 0:
                raise UploadError(400, "the file is empty")
            with open(part, "rb") as handle:
                head = handle.read(512)
            fmt = sniff(head)
            fmt = self._check(kind, fmt, part)
            upload_id = new_id()
            folder = self.root / upload_id
            folder.mkdir()
            os.replace(part, folder / "data")
            meta = {"id": upload_id, "kind": kind, "format": fmt, "name": _display_name(name), "size": size}
            (folder / "meta.json").write_text(json.dumps(meta))
            return meta
        finally:
            self.arriving.pop(part.name, None)
            if part.exists():
                part.unlink()

    def arriving_of(self, kinds) -> dict | None:
        """The first upload of one of ``kinds`` still arriving (its kind, name, received, length), or ``None``."""
        for entry in list(self.arriving.values()):
            if entry["kind"] in kinds:
                return dict(entry)
        return None

    def _check(self, kind: str, fmt: str | None, path: Path) -> str:
        if kind == "audio":
            if fmt not in _AUDIO:
                raise UploadError(415, "this is not an audio file the studio reads (WAV, FLAC, OGG, AIFF or MP3)")
            import soundfile
            try:
                info = soundfile.info(str(path))
            except Exception:  # noqa: BLE001 - any failure to decode means: not usable audio
                raise UploadError(415, f"the file looks like {fmt.upper()} but cannot be decoded as audio") from None
            if info.frames <= 0:
                raise UploadError(400, "the audio file holds no samples")
            return fmt
        if kind == "image":
            if fmt not in _IMAGE:
                raise UploadError(415, "this is not a picture the studio reads (PNG, JPEG, TIFF or DICOM)")
            if fmt == "dicom":
                try:
                    import pydicom
                    ds = pydicom.dcmread(str(path))
                except Exception:  # noqa: BLE001
                    raise UploadError(415, "the file has a DICOM mark but is not a readable DICOM file") from None
                if "PixelData" not in ds:
                    raise UploadError(415, "the DICOM file holds no picture (no pixel data)")
                _check_pixels(int(getattr(ds, "Columns", 0) or 0), int(getattr(ds, "Rows", 0) or 0))
                return fmt
            w, h = _picture_size(path, fmt)
            _check_pixels(w, h)
            return fmt
        # json: a record.json
        if fmt != "json":
            raise UploadError(415, "this is not a JSON file")
        from izdat.optical import read_meta
        try:
            read_meta(path)
        except Exception:  # noqa: BLE001
            raise UploadError(415, "this JSON file is not a record.json written by izdat cut") from None
        return fmt

    def get(self, upload_id: str, kind: str | None = None) -> dict | None:
        if not valid_id(upload_id):
            return None
        folder = self.root / upload_id
        try:
            meta = json.loads((folder / "meta.json").read_text())
        except (OSError, ValueError):
            return None
        if kind is not None and meta.get("kind") != kind:
            return None
        meta["path"] = str(folder / "data")
        return meta

    def list(self) -> list[dict]:
        out = []
        for folder in self.root.iterdir():
            if folder.is_dir() and valid_id(folder.name):
                meta = self.get(folder.name)
                if meta:
                    meta.pop("path")
                    out.append(meta)
        return out

    def delete(self, upload_id: str) -> bool:
        if self.get(upload_id) is None:
            return False
        shutil.rmtree(self.root / upload_id, ignore_errors=True)
        return True


def max_pixels() -> int:
    """The most pixels a picture may have: izdat's own limit (:data:`izdat.optical.MAX_PIXELS`)."""
    try:
        from izdat.optical._load import MAX_PIXELS
    except ImportError:                        # pragma: no cover - an izdat without the optical reader
        return 30_000 * 30_000
    return int(MAX_PIXELS)


def _check_pixels(width: int, height: int) -> None:
    limit = max_pixels()
    if width * height > limit:
        raise UploadError(413, f"the picture is {width} x {height} pixels ({width * height / 1e6:.0f} million), "
                               f"more than the {limit / 1e6:.0f} million the studio reads; scan it at a lower DPI")


def _picture_size(path: Path, fmt: str) -> tuple[int, int]:
    """A PNG, JPEG or TIFF's width and height from its header, its structure checked, nothing decoded.

    Pillow's own guard against decompression bombs is set aside here: the size is judged against
    izdat's limit instead (:func:`max_pixels`), whatever Pillow's is.
    """
    import warnings

    from PIL import Image
    try:
        with _bomb_guard_off(), warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                size = im.size
                im.verify()                # the chunks and their checksums; no pixel is decoded
    except Exception:  # noqa: BLE001 - any failure to read the header means: not a usable picture
        raise UploadError(415, f"the file looks like {fmt.upper()} but cannot be decoded as a picture") from None
    return int(size[0]), int(size[1])


@contextlib.contextmanager
def _bomb_guard_off():
    """Pillow's bomb guard off inside the block: the loader's shared guard where there is one."""
    try:
        from izdat.optical._load import pillow_guard
    except ImportError:                        # pragma: no cover - an older loader
        pillow_guard = None
    if pillow_guard is not None:
        with pillow_guard(None):
            yield
        return
    from PIL import Image
    with _PIL_GUARD:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = saved


_PIL_GUARD = threading.Lock()


def _display_name(name: str) -> str:
    """The original file name, only for showing: its last part, printable, at most 120 characters."""
    name = re.split(r"[\\/]", name or "")[-1]
    name = "".join(c for c in name if c.isprintable())
    return name[:120] or "upload"
