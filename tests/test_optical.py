"""The optical needle: cut → render → play round trips and its error sentences."""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pytest
from PIL import Image

from izdat.audio import Audio
from izdat.errors import PictureError
from izdat.lathe import Lathe
from izdat.optical import OpticalReader, load_picture, play_picture, read_meta, scan_of
from izdat.optical.metrics import si_snr_db, tone_snr_db
from izdat.outputs import write_record

FS = 44_100


def _tone(seconds=2.0, hz=1000.0):
    t = np.arange(int(seconds * FS)) / FS
    return Audio(np.sin(2 * np.pi * hz * t).astype(np.float32), FS)


def _music(seconds):
    """The first ``seconds`` of the bundled boogie (examples/make_song.py)."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
    from make_song import song
    return Audio(song()[: int(seconds * FS)].astype(np.float32), FS)


@pytest.fixture(scope="module")
def tone_record(tmp_path_factory):
    """A 2 s 1 kHz tone at −6 dB on a 120 mm record, rendered at 1200 DPI with its record.json."""
    record = Lathe(diameter_mm=120, inner_radius_mm=30, level_db=-6).cut(_tone())
    out = tmp_path_factory.mktemp("tone")
    write_record(record, out, formats=("png", "json"), dpi=1200, seed=1)
    return record, out


def test_reading_a_clean_render_with_its_json_gives_the_tone_back(tone_record):
    """Clean 1200 DPI render, record.json beside it: the tone comes back at the issue's 36 dB, as
    long as the cut."""
    record, out = tone_record
    audio, groove = play_picture(out / "record.png")
    ref = record.playback()
    assert len(audio) == len(ref)                       # the cut's duration, to the sample
    assert groove.confidence > 0.99
    assert tone_snr_db(audio.samples, FS) >= 40         # issue: 36 dB; measured 41.7 dB
    assert si_snr_db(audio.samples, ref.samples, FS) >= 40


def test_music_comes_back_from_a_clean_render(tmp_path):
    """A music excerpt (the bundled boogie) round trip at 1200 DPI. The issue asks 30 dB SI-SNR in
    60 Hz–5 kHz; measured 20.3 dB (docs/optical.md says what limits it), so this guards the floor."""
    music = _music(3)
    record = Lathe(diameter_mm=120, inner_radius_mm=30, level_db=-6).cut(music)
    write_record(record, tmp_path, formats=("png", "json"), dpi=1200, seed=1)
    audio, groove = play_picture(tmp_path / "record.png")
    ref = record.playback()
    assert len(audio) == len(ref)
    assert si_snr_db(audio.samples, ref.samples, FS) > 19
    settled, _ = play_picture(tmp_path / "record.png", passes=3)          # measured 22.2 dB
    assert si_snr_db(settled.samples, ref.samples, FS) > 21.5


def test_a_settled_read_of_a_16_bit_picture_gives_music_back_at_30_db(tmp_path):
    """Where the picture holds it (16 bits, plain film: no grain, walls 256 times finer), three
    passes and a prior weighed by the pixels' noise give music back above the issue's 30 dB
    (measured 34.2 dB; 21.8 dB with two passes, 23.8 dB with the prior held at its clean weight)."""
    music = _music(3)
    record = Lathe(diameter_mm=120, inner_radius_mm=30, level_db=-6).cut(music)
    plain = (np.full((2, 2), 0.2, np.float32), {"kind": "plain film"})
    write_record(record, tmp_path, formats=("png", "json"), dpi=1200, seed=1, xray=plain, bits=16)
    audio, _ = play_picture(tmp_path / "record.png", passes=3)
    assert si_snr_db(audio.samples, record.playback().samples, FS) > 30


def test_a_degraded_picture_loses_no_turn(tone_record):
    """The render aged as a photo would be (rotation, 10 mm off centre, light, dust, scratches,
    1 px blur, noise, JPEG 85), read without the json's centre: the whole groove, every turn, the
    cut's duration. The issue asks 30 dB for the tone; measured 29.8 dB on this 2 s cut (30.1 dB on
    the bench's 3 s), so this guards the floor."""
    from izdat.age import Ageing, age
    record, out = tone_record
    meta = read_meta(out / "record.json")
    scan = load_picture(out / "record.png")
    aged = age(scan.pixels, dpi=1200, seed=2, ageing=Ageing(rotate_deg=17.0, shift_mm=10.0, light=0.25, dust=40,
                                                            scratches=3, blur_px=1.0, noise=2.0, jpeg_quality=85))
    groove = OpticalReader().read(scan_of(aged, 1200), dataclasses.replace(meta, centre_px=None))
    audio = groove.playback(eq=meta.eq, gain_m=meta.gain_m)
    n_read = min(meta.locked_start, meta.program_end + meta.samples_per_rev)
    assert len(groove.radius_m) == n_read                 # no turn lost or gained
    assert len(audio) == len(record.playback())
    assert groove.confidence > 0.95
    assert tone_snr_db(audio.samples, FS) > 28.5         # measured 29.8 dB
    assert si_snr_db(audio.samples, record.playback().samples, FS) > 28.5    # measured 29.6 dB


def test_the_spiral_is_found_without_the_json_centre(tone_record):
    """Without the centre and start from record.json the reader finds them itself."""
    record, out = tone_record
    meta = read_meta(out / "record.json")
    scan = load_picture(out / "record.png")
    groove = OpticalReader().read(scan, dataclasses.replace(meta, centre_px=None))
    assert abs(groove.centre_px[0] - meta.centre_px[0]) < 1.0
    assert abs(groove.centre_px[1] - meta.centre_px[1]) < 1.0
    assert abs((groove.start_angle_deg - meta.start_angle_deg + 180) % 360 - 180) < 1.0
    assert groove.direction == "counterclockwise"
    audio = groove.playback(eq=meta.eq, gain_m=meta.gain_m)
    assert tone_snr_db(audio.samples, FS) > 38
    # the centre refined from the groove itself: no once-a-turn timing error (measured 41.7 dB)
    assert si_snr_db(audio.samples, record.playback().samples, FS) > 38


def test_a_picture_without_a_groove_is_refused_in_one_sentence():
    """Smooth noise (a photo of something else) is no record: one sentence, no audio."""
    rng = np.random.default_rng(0)
    from scipy import ndimage
    img = ndimage.gaussian_filter(rng.random((1500, 1500)), 20)
    img = (255 * (img - img.min()) / np.ptp(img)).astype(np.uint8)
    with pytest.raises(PictureError, match="no readable groove"):
        OpticalReader().read(scan_of(img, 1200))


@pytest.mark.parametrize("kind", ["small noise", "fine noise", "stripes"])
def test_other_pictures_are_refused_in_one_sentence(kind):
    """A picture too small to hold a record, white noise, parallel lines: one sentence, no audio."""
    rng = np.random.default_rng(1)
    if kind == "small noise":
        img = (rng.random((800, 800)) * 255).astype(np.uint8)
    elif kind == "fine noise":
        img = (rng.random((3000, 3000)) * 255).astype(np.uint8)
    else:
        img = np.full((3000, 3000), 128, np.uint8)
        img[::7] = 30
    with pytest.raises(PictureError, match="no readable groove"):
        OpticalReader().read(scan_of(img, 1200))


def test_a_picture_without_dpi_asks_for_it(tmp_path):
    path = tmp_path / "plain.png"
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(path)
    with pytest.raises(PictureError, match="give it with --dpi"):
        OpticalReader().read(load_picture(path))


def test_the_pixel_limit_says_how_to_lift_it(tmp_path):
    path = tmp_path / "big.png"
    Image.fromarray(np.zeros((300, 300), np.uint8)).save(path)
    with pytest.raises(PictureError, match="--max-pixels"):
        load_picture(path, max_pixels=10_000)
    assert load_picture(path, max_pixels=None).pixels.shape == (300, 300)


def test_16_bit_pictures_keep_their_bits_and_colour_ones_load_as_8_bit_grey(tmp_path):
    grey = (np.arange(64 * 64).reshape(64, 64) % 256).astype(np.uint8)
    fine = (np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16)
    Image.fromarray(fine).save(tmp_path / "g16.png")
    Image.fromarray(np.stack([grey] * 3, axis=2)).save(tmp_path / "rgb.png", dpi=(600, 600))
    g16 = load_picture(tmp_path / "g16.png").pixels
    assert g16.dtype == np.uint16 and np.array_equal(g16, fine)
    rgb = load_picture(tmp_path / "rgb.png")
    assert rgb.dpi == 600 and rgb.pixels.dtype == np.uint8 and np.abs(rgb.pixels.astype(int) - grey).max() <= 1


def test_a_16_bit_render_reads_finer_than_an_8_bit_one(tmp_path):
    """The same cut on plain film at 8 and 16 bits: the 16-bit picture's walls sit 256 times finer
    and the tone comes back cleaner (measured 44.3 against 45.2 dB)."""
    record = Lathe(diameter_mm=120, inner_radius_mm=30, level_db=-6).cut(_tone())
    plain = (np.full((2, 2), 0.2, np.float32), {"kind": "plain film"})
    snr = {}
    for bits in (8, 16):
        write_record(record, tmp_path / str(bits), formats=("png", "json"), dpi=1200, seed=1, xray=plain, bits=bits)
        assert load_picture(tmp_path / str(bits) / "record.png").pixels.dtype == (np.uint16 if bits == 16 else np.uint8)
        audio, _ = play_picture(tmp_path / str(bits) / "record.png")
        snr[bits] = tone_snr_db(audio.samples, FS)
    assert snr[16] > snr[8] + 0.5 and snr[8] > 42


def test_a_2400_dpi_render_gives_the_tone_back_at_42_db(tmp_path):
    """2400 DPI (a 100 mm disc to keep the picture small): the issue's 42 dB for the tone."""
    record = Lathe(diameter_mm=100, inner_radius_mm=25, level_db=-6).cut(_tone(1.5))
    write_record(record, tmp_path, formats=("png", "json"), dpi=2400, seed=1)
    audio, groove = play_picture(tmp_path / "record.png")
    assert len(audio) == len(record.playback())
    assert tone_snr_db(audio.samples, FS) >= 48          # issue: 42 dB; measured 50.5 dB


def test_the_pictures_blur_is_found(tone_record):
    """The reader chooses the blur σ that best explains the outer turns' pixels: none on a clean
    render (which then has its film read pixel by pixel), about the Gaussian a scanner added."""
    from izdat.age import Ageing, age
    _, out = tone_record
    meta = read_meta(out / "record.json")
    scan = load_picture(out / "record.png")
    assert OpticalReader().read(scan, meta).notes["blur_px"] == 0.0
    blurred = age(scan.pixels, dpi=1200, seed=2, ageing=Ageing(blur_px=1.0))
    sigma = OpticalReader().read(scan_of(blurred, 1200), meta).notes["blur_px"]
    assert 0.85 < sigma < 1.2                            # measured 1.03 px for σ = 1 px


def test_coasted_stretches_are_kept_as_intervals_and_counted_in_the_programme():
    """The fit's per-ring flags become (start, stop) intervals, joined where rings meet; the groove
    gives a flag per sample from them, and its confidence counts only the programme's samples."""
    from izdat.optical._fine import _merge, _runs
    from izdat.optical._read import Groove
    ring1 = np.array([0, 0, 1, 1, 0, 0, 0, 1], bool)       # coasted at 2–3 and from 7 on …
    ring2 = np.array([1, 1, 0, 0, 0, 0, 1, 0], bool)       # … to 9 in the next ring, and at 14
    gaps = _merge([_runs(ring1), _runs(ring2) + 8])
    assert gaps.tolist() == [[2, 4], [7, 10], [14, 15]]
    groove = Groove(np.full(16, 0.05, np.float32), 8, 78.0, 4, 16, gaps, (0.0, 0.0), 0.0, "counterclockwise",
                    1200.0, 1e-4)
    assert groove.trusted.tolist() == [not f for f in np.concatenate([ring1, ring2])]
    assert groove.confidence == pytest.approx(1 - 4 / 12)    # 7, 8, 9 and 14 of samples 4 … 15


@pytest.mark.parametrize("centre", ["known", "found"])
def test_a_picture_let_go_as_the_groove_passes_reads_the_same(tone_record, centre):
    """``release=True`` hands back the rows the groove has passed (their pages read as zeros after,
    on Linux), and the groove read is the same, to the bit, with the centre known or found."""
    record, out = tone_record
    meta = read_meta(out / "record.json") if centre == "known" else None
    kept = OpticalReader().read(load_picture(out / "record.png"), meta)
    scan = load_picture(out / "record.png")
    let_go = OpticalReader().read(scan, meta, release=True)
    assert np.array_equal(kept.radius_m, let_go.radius_m)
    assert np.array_equal(kept.untrusted, let_go.untrusted)
    cy = int(round(kept.centre_px[1]))
    r_in, r_out = (float(f(kept.radius_m)) * 1200 / 0.0254 for f in (np.min, np.max))
    assert scan.pixels[cy - int(r_in) + 40].any()              # inside the groove: kept
    if sys.platform.startswith("linux"):                       # outside its first turn: gone (whole pages)
        assert not scan.pixels[1:cy - int(r_out) - 40].any() and not scan.pixels[cy + int(r_out) + 40:-1].any()


def test_the_laser_files_svg_plays_the_tone_back(tone_record, tmp_path):
    """record.svg (the laser cutter's file) rasterised at 1200 DPI by resvg and read: the tone, as long
    as the cut (the spiral found, the SVG being another picture than record.json's)."""
    record, out = tone_record
    write_record(record, tmp_path, formats=("svg", "json"), dpi=1200, seed=1)
    audio, groove = play_picture(tmp_path / "record.svg")
    assert groove.dpi == 1200 and len(audio) == len(record.playback())
    assert tone_snr_db(audio.samples, FS) > 28          # measured 30.7 dB (the SVG keeps 1 µm coordinates)


def test_svgs_that_cannot_be_read_are_refused_in_one_sentence(tmp_path):
    broken = tmp_path / "broken.svg"
    broken.write_text("<svg xmlns='http://www.w3.org/2000/svg' width='10mm' height='10mm'><path d='M 1")
    with pytest.raises(PictureError, match=r"^cannot rasterise broken.svg as an SVG \(.*\)$"):
        load_picture(broken)
    huge = tmp_path / "huge.svg"
    huge.write_text("<svg xmlns='http://www.w3.org/2000/svg' width='400mm' height='400mm'></svg>")
    with pytest.raises(PictureError, match="at 2400 DPI would be 37796 × 37796 pixels, more than the limit"):
        load_picture(huge, dpi=2400)


@pytest.mark.parametrize("dpi, json", [(400, True), (500, True), (200, False)])
def test_a_groove_too_few_pixels_across_is_refused(tmp_path, dpi, json):
    """A 120 µm groove at 400 DPI, turns 2.9 px apart: its tone read back at −6 dB SNR (noise), though
    84 % of it was followed. One sentence saying so instead; without record.json the groove's width
    is the one the spiral finder sees (1.7 px at 200 DPI)."""
    record = Lathe(diameter_mm=120, inner_radius_mm=30, level_db=-6).cut(_tone(2.0))
    write_record(record, tmp_path, formats=("png", "json") if json else ("png",), dpi=dpi, seed=1)
    if dpi == 500:      # wide enough (2.4 px), but the turns 3.6 px apart: its tone read back at 2 dB
        with pytest.raises(PictureError, match=r"at 500 DPI its turns are 3\.\d px apart and its 120 µm 2\.4 px across"):
            play_picture(tmp_path / "record.png")
        return
    with pytest.raises(PictureError, match=rf"^the picture is too coarse to read the groove: at {dpi} DPI its "
                                           r"turns are .* px apart and its \d+ µm \d\.\d px across, too few .*"
                                           r"scan it at \d+ DPI or more\)$"):
        play_picture(tmp_path / "record.png")


def test_an_svg_is_drawn_at_the_size_it_says_whatever_its_units(tmp_path):
    """mm, px, a bare viewBox (CSS pixels, 96 to the inch) or gzipped: drawn at the DPI asked, the size
    checked first; an SVG that says no size is refused in one sentence."""
    import gzip
    body = "<circle cx='50' cy='25' r='20' fill='blue'/></svg>"
    head = "<svg xmlns='http://www.w3.org/2000/svg' "
    files = {"mm.svg": head + "width='25.4mm' height='12.7mm' stroke-width='0.1mm' viewBox='0 0 100 50'>",
             "px.svg": head + "width='96px' height='48'>", "box.svg": head + "viewBox='0 0 96 48'>"}
    for name, text in files.items():
        (tmp_path / name).write_text(text + body)
    (tmp_path / "mm.svgz").write_bytes(gzip.compress((files["mm.svg"] + body).encode()))
    for name in ["mm.svg", "px.svg", "box.svg", "mm.svgz"]:
        scan = load_picture(tmp_path / name, dpi=600)
        assert scan.pixels.shape == (300, 600) and scan.dpi == 600, name      # one inch by half an inch
        assert scan.pixels[150, 300] > 200 and scan.pixels[5, 5] == 0, name   # the circle light, the ground dark
    (tmp_path / "none.svg").write_text(head + ">" + body)
    with pytest.raises(PictureError, match="^none.svg does not say its size"):
        load_picture(tmp_path / "none.svg")
