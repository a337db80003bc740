"""Issue 17, trust-breakers on the command line: what izdat says must be true and name what a person typed."""
from __future__ import annotations

import re
import wave

import numpy as np
import pytest

from izdat.lathe import LimiterReport


@pytest.fixture
def tone(tmp_path):
    path = tmp_path / "tone.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(44100)
        w.writeframes((np.sin(np.arange(22050) * 0.05) * 8000).astype("<i2").tobytes())
    return path


def test_limiter_summary_counts_overlapping_passages_once():
    # an excursion passage 0–4 s and a slope passage 1–5 s overlap: 5.5 s were limited, not 8.5
    segments = [(0.0, 4.0, 3.0, "excursion"), (1.0, 5.0, 2.0, "slope"), (6.0, 6.5, 1.0, "slope")]
    report = LimiterReport(segments, 3.0, sum(b - a for a, b, *_ in segments))
    assert "5.5 s in all" in report.summary()


def test_a_5_s_side_limited_for_excursion_and_slope_at_once_reports_5_s():
    """A loud 100 Hz + 9 kHz side is limited for excursion and for slope over the same 5 s: the
    report says 5.0 s in all (it said 10.0), in the summary and in record.json's limited_s."""
    from izdat.audio import Audio
    from izdat.lathe import Lathe
    fs = 44100
    t = np.arange(5 * fs) / fs
    x = (0.45 * np.sin(2 * np.pi * 100 * t) + 0.45 * np.sin(2 * np.pi * 9000 * t)).astype("float32")
    record = Lathe(diameter_mm=100, inner_radius_mm=25, outer_margin_mm=5, level_db=20, max_slope=0.3).cut(Audio(x, fs))
    assert {s[3] for s in record.limiter.segments} == {"excursion", "slope"}
    assert record.limiter.limited_s == pytest.approx(5.0, abs=0.01)
    assert "5.0 s in all" in record.limiter.summary()


def test_age_help_does_not_offer_svg(izdat):
    code, out, _ = izdat("age", "--help")
    text = re.sub(r"[\s│]+", " ", out)
    assert code == 0 and "an SVG is drawn" not in text and "not SVG" in text


def test_dub_help_says_its_default_deck(izdat):
    code, out, _ = izdat("dub", "--help")
    assert code == 0 and "default: elektronika-302" in re.sub(r"[\s│]+", " ", out)


def test_an_unknown_xray_lists_the_built_in_ones(izdat, tone, tmp_path):
    code, _, err = izdat("cut", tone, "-o", tmp_path / "rec", "--xray", "foot")
    assert code == 2 and not (tmp_path / "rec").exists()
    assert "'foot' is neither a built-in X-ray (skull, hand, chest) nor a file" in err


@pytest.mark.parametrize("flag,value", [("--level", "30"), ("--rpm", "3"), ("--land", "-1")])
def test_cut_names_the_flag_not_the_library_parameter(izdat, tone, tmp_path, flag, value):
    code, _, err = izdat("cut", tone, "-o", tmp_path / "rec", flag, value)
    assert code == 2 and not (tmp_path / "rec").exists()
    assert err.startswith(f"izdat: {flag} must be"), err
    assert not re.search(r"\b(level_db|rpm|land_um)\b", err.replace(flag, "")), err


def test_play_prints_the_report_it_wrote_and_counts_the_turns_cut_counted(izdat, tone, tmp_path):
    """Also one definition of a record's turns, the programme's: `cut` printed 44 (every turn,
    lead-in and locked groove too) where `play` printed 19.5."""
    code, _, err = izdat("cut", tone, "-o", tmp_path / "rec", "--diameter", "100", "--inner-radius", "25",
                         "--outer-margin", "5", "--dpi", "600", "--format", "png,json")
    assert code == 0, err
    cut = float(re.search(r"into ([\d.]+) programme turns", err).group(1))
    code, out, err = izdat("play", tmp_path / "rec" / "record.png", "-o", tmp_path / "x.wav",
                           "--report", tmp_path / "r.png")
    assert code == 0, err
    assert (tmp_path / "r.png").is_file()
    assert str(tmp_path / "r.png") in out.splitlines()
    played = float(re.search(r"in ([\d.]+) turns", err).group(1))
    assert cut == pytest.approx(0.5 * 78 / 60, abs=0.05)       # 0.5 s of tone at 78 rpm
    assert played == pytest.approx(cut, abs=0.15)


@pytest.mark.parametrize("look", ["photographed", "scanned", "dusty"])
def test_age_of_a_picture_above_pillows_bomb_limit_prints_no_pillow_warning(izdat, tmp_path, monkeypatch, look):
    """Pillow warns of a 'decompression bomb' above its own limit (89 Mpx; izdat's 1200 DPI picture
    is 150 Mpx). Here Pillow's limit is lowered to 5000 px and the picture is 90 × 90 = 8100 px: izdat
    checked it against its own --max-pixels, so no Pillow warning may reach the terminal."""
    import warnings
    from PIL import Image
    path = tmp_path / "in.png"
    Image.fromarray((np.add.outer(np.arange(90), np.arange(90)) % 256).astype(np.uint8)).save(path, dpi=(600, 600))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 5000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        code, _, err = izdat("age", path, "-o", tmp_path / "out.png", "--look", look)
    assert code == 0, err
    assert "DecompressionBomb" not in err and (tmp_path / "out.png").is_file()


def test_the_library_s_age_gives_no_bomb_warning_on_a_big_picture(monkeypatch):
    """``izdat.age.age`` itself (not only the CLI) reads its JPEG round trip under izdat's guard."""
    import warnings

    import numpy as np
    from PIL import Image

    from izdat.age import PRESETS, age
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 5000)     # a 90 x 90 picture is "big" now
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        out = age(np.full((90, 90), 128, np.uint8), dpi=600, ageing=PRESETS["photographed"], seed=1)
    assert out.shape == (90, 90) and Image.MAX_IMAGE_PIXELS == 5000

