"""Shared test signals, files and the command line run in this process."""

import sys
from pathlib import Path

import numpy as np
import pytest

from izdat.audio import Audio

RATE = 44100


def sine(freq_hz: float, seconds: float, *, amplitude: float = 0.5, rate: int = RATE) -> Audio:
    t = np.arange(int(seconds * rate)) / rate
    return Audio(amplitude * np.sin(2 * np.pi * freq_hz * t), rate)


@pytest.fixture
def izdat(monkeypatch, capsys):
    """``izdat ARGS…`` run in this process through its entry point: (exit code, stdout, stderr)."""
    from izdat.cli import main

    def run(*args):
        monkeypatch.setattr(sys, "argv", ["izdat", *map(str, args)])
        with pytest.raises(SystemExit) as exit_:
            main()
        out = capsys.readouterr()
        return exit_.value.code or 0, out.out, out.err
    return run


@pytest.fixture
def tone():
    return sine(1000, 2.0)


def dicom(path, pixels=None):
    """A DICOM file, with ``pixels`` (uint16, MONOCHROME2, 12 bits stored) or with none."""
    import pydicom
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian
    meta = FileMetaDataset()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.MediaStorageSOPClassUID = pydicom.uid.generate_uid()
    meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.PatientName = "Nobody"
    if pixels is not None:
        ds.Rows, ds.Columns = pixels.shape
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.PixelData = pixels.astype(np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return Path(path)
