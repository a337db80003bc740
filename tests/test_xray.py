"""Radiograph backdrops: procedural films look like X-rays, and X-ray files read back faithfully."""

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

from izdat.errors import PictureError
from izdat.xray import KINDS, load_radiograph, radiograph

SIZE = 256


@pytest.fixture(scope="module")
def films():
    return {kind: radiograph(kind, SIZE, seed=3) for kind in KINDS}


def _corr(a, b):
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def _mean_along(film, p0, p1, samples=60):
    """Mean film value along a line between two (x, y) points in film units (-1..1)."""
    n = film.shape[0]
    t = np.linspace(0.0, 1.0, samples)
    x = p0[0] + t * (p1[0] - p0[0])
    y = p0[1] + t * (p1[1] - p0[1])
    cols = np.clip(((x + 1.0) / 2.0 * n).astype(int), 0, n - 1)
    rows = np.clip(((y + 1.0) / 2.0 * n).astype(int), 0, n - 1)
    return float(film[rows, cols].mean())


def test_kinds_include_the_three_classic_films():
    """Skull, hand and chest are on offer."""
    assert {"skull", "hand", "chest"} <= set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_film_is_float32_square_in_unit_range(films, kind):
    """Every film is a float32 square with values in [0, 1] and real contrast."""
    film = films[kind]
    assert film.dtype == np.float32 and film.shape == (SIZE, SIZE)
    assert film.min() >= 0.0 and film.max() <= 1.0
    assert film.std() > 0.1


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_film_other_seed_other_film(films, kind):
    """A seed fixes the film exactly; another seed changes it."""
    assert np.array_equal(films[kind], radiograph(kind, SIZE, seed=3))
    other = radiograph(kind, SIZE, seed=4)
    assert np.abs(other - films[kind]).mean() > 0.005
    assert _corr(other, films[kind]) > 0.6  # still the same anatomy


def test_film_does_not_touch_global_random_state():
    """radiograph draws only from its own generator."""
    np.random.seed(7)
    before = np.random.random()
    np.random.seed(7)
    radiograph("hand", 32, seed=1)
    assert np.random.random() == before


def test_hand_bone_is_brighter_than_soft_tissue_and_air():
    """Along the middle metacarpal the film is brighter than the finger web, and that than air."""
    film = radiograph("hand", 512, seed=0)
    bone = _mean_along(film, (0.0, 0.42), (0.02, 0.12))  # middle metacarpal shaft
    skin = film[292:302, 236:246].mean()  # palm between the middle and ring metacarpals
    air = film[:40, :40].mean()
    assert bone > skin + 0.15
    assert skin > air + 0.1
    assert air < 0.12


def test_chest_lungs_are_darker_than_spine_and_heart():
    """Lung fields show dark; the mediastinum with the spine and the heart are bright."""
    film = radiograph("chest", 512, seed=0)
    lungs = np.mean([film[180:220, 100:140].mean(), film[180:220, 372:412].mean()])
    spine = film[180:220, 246:266].mean()
    heart = film[300:330, 270:320].mean()
    assert spine > lungs + 0.2
    assert heart > lungs + 0.2


def test_skull_vault_rim_is_brighter_than_its_middle():
    """The cranial vault seen edge-on (its rim) is brighter than seen face-on (its middle)."""
    film = radiograph("skull", 512, seed=0)
    row = film[160, :]  # across the upper vault
    rim = row[:256].max()
    middle = film[150:170, 236:276].mean()
    assert rim > middle + 0.15


@pytest.mark.parametrize("bad", ["foot", "", "SKULL"])
def test_unknown_kind_lists_the_known_ones(bad):
    with pytest.raises(PictureError, match="skull, hand, chest"):
        radiograph(bad, 64)


@pytest.mark.parametrize("size", [0, 15, 8193, 100.0, True])
def test_size_out_of_range_is_refused(size):
    with pytest.raises(PictureError, match="size_px"):
        radiograph("hand", size)


# ---------------------------------------------------------------------------- files


@pytest.fixture(scope="module")
def source():
    return radiograph("hand", 128, seed=5)


def _save_pillow(path, array, mode):
    if mode == "L":
        Image.fromarray(np.round(array * 255).astype(np.uint8)).save(path)
    elif mode == "I;16":
        Image.fromarray(np.round(array * 65535).astype(np.uint16)).save(path)
    else:  # colour
        grey = np.round(array * 255).astype(np.uint8)
        Image.fromarray(np.dstack([grey, grey, grey])).save(path)


@pytest.mark.parametrize("name, mode", [("film.png", "L"), ("film16.png", "I;16"),
                                        ("film.jpg", "L"), ("colour.jpg", "RGB"),
                                        ("film.tif", "L"), ("film16.tif", "I;16")])
def test_picture_files_round_trip(tmp_path, source, name, mode):
    """PNG, JPEG and TIFF (8 and 16 bit, grey or colour) read back close to what was written."""
    path = tmp_path / name
    _save_pillow(path, source, mode)
    film = load_radiograph(path, 128)
    assert film.dtype == np.float32 and film.shape == (128, 128)
    assert film.min() >= 0.0 and film.max() <= 1.0
    assert _corr(film, source) > 0.95


def test_sixteen_bit_keeps_its_fine_levels(tmp_path):
    """A 16-bit ramp spanning only 1000 levels is stretched, not crushed to 8 bits."""
    ramp = np.tile(np.linspace(30000, 31000, 64), (64, 1)).astype(np.uint16)
    path = tmp_path / "ramp.png"
    Image.fromarray(ramp).save(path)
    film = load_radiograph(path, 64)
    assert len(np.unique(np.round(film[32], 4))) > 50
    assert film.min() == pytest.approx(0.0, abs=0.01) and film.max() == pytest.approx(1.0, abs=0.01)


def test_non_square_picture_is_centre_cropped_and_resized(tmp_path):
    """A wide picture keeps its middle square; the bright middle stays in the middle."""
    wide = np.zeros((100, 300), np.uint8)
    wide[:, 140:160] = 255
    path = tmp_path / "wide.png"
    Image.fromarray(wide).save(path)
    film = load_radiograph(path, 50)
    assert film.shape == (50, 50)
    assert film[:, 22:28].mean() > 0.8 and film[:, :15].mean() < 0.05


def _dicom(path, pixels, *, photometric="MONOCHROME2", slope=1.0, intercept=0.0, window=None,
           with_pixels=True, preamble=True):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "CR"
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.RescaleSlope = slope
    ds.RescaleIntercept = intercept
    if window is not None:
        ds.WindowCenter, ds.WindowWidth = window
    if with_pixels:
        ds.PixelData = pixels.astype(np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=preamble)
    if not preamble:  # rewrite as a bare dataset: no preamble, no DICM mark
        ds.preamble = None
        pydicom.dcmwrite(path, ds, enforce_file_format=False)


@pytest.mark.parametrize("photometric", ["MONOCHROME2", "MONOCHROME1"])
@pytest.mark.parametrize("window", [None, (50.0, 2200.0)])
def test_dicom_round_trip_with_rescale_window_and_polarity(tmp_path, source, photometric, window):
    """DICOM reads with modality rescale and window applied, and bone bright either polarity."""
    stored = source if photometric == "MONOCHROME2" else 1.0 - source
    pixels = np.round(stored * 4000 + 100)
    path = tmp_path / "scan.dcm"
    _dicom(path, pixels, photometric=photometric, slope=0.5, intercept=-1000.0, window=window)
    film = load_radiograph(path, 128)
    assert film.dtype == np.float32 and film.shape == (128, 128)
    assert _corr(film, source) > 0.95


def test_dicom_window_clips_outside_levels(tmp_path):
    """A narrow VOI window saturates levels outside it, as a radiologist's window does."""
    pixels = np.tile(np.linspace(0, 4000, 64), (64, 1))
    path = tmp_path / "window.dcm"
    _dicom(path, pixels, window=(2000.0, 1000.0))
    film = load_radiograph(path, 64)
    assert film[:, :10].max() < 0.02 and film[:, -10:].min() > 0.98


def test_dicom_without_preamble_is_found_by_content(tmp_path, source):
    """A bare DICOM dataset (no DICM mark) with a misleading suffix is still read."""
    path = tmp_path / "scan.bin"
    _dicom(path, np.round(source * 4000), preamble=False)
    assert b"DICM" not in path.read_bytes()[:132]
    assert _corr(load_radiograph(path, 128), source) > 0.95


def test_dicom_without_pixels_is_refused(tmp_path):
    path = tmp_path / "nopixels.dcm"
    _dicom(path, np.zeros((8, 8)), with_pixels=False)
    with pytest.raises(PictureError, match=r"nopixels\.dcm.*no pixel data"):
        load_radiograph(path, 64)


def test_text_file_is_refused_naming_it(tmp_path):
    path = tmp_path / "scan.txt"
    path.write_text("this is a note about the record, not a picture\n" * 20)
    with pytest.raises(PictureError, match=r"scan\.txt.*not a PNG, JPEG, TIFF or DICOM"):
        load_radiograph(path, 64)


def test_empty_and_missing_files_are_refused(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(PictureError, match=r"empty\.png.*empty"):
        load_radiograph(empty, 64)
    with pytest.raises(PictureError, match=r"missing\.png"):
        load_radiograph(tmp_path / "missing.png", 64)


def test_truncated_png_is_refused(tmp_path, source):
    path = tmp_path / "cut.png"
    _save_pillow(path, source, "L")
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(PictureError, match=r"cut\.png"):
        load_radiograph(path, 64)


def test_decompression_bomb_is_refused(tmp_path, monkeypatch):
    """Pictures over the pixel limit are refused before decoding (limit lowered for speed)."""
    import izdat.xray as xray

    monkeypatch.setattr(xray, "MAX_PIXELS", 100 * 100)
    path = tmp_path / "bomb.png"
    Image.fromarray(np.zeros((200, 200), np.uint8)).save(path)
    with pytest.raises(PictureError, match=r"bomb\.png.*megapixels"):
        load_radiograph(path, 64)
    assert Image.MAX_IMAGE_PIXELS != 100 * 100  # Pillow's own limit is restored


def test_load_checks_size(tmp_path, source):
    path = tmp_path / "film.png"
    _save_pillow(path, source, "L")
    with pytest.raises(PictureError, match="size_px"):
        load_radiograph(path, 10)
