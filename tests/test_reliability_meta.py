"""Issue 15, item 4 and "keep them out": a record.json that lies is refused in one sentence naming
the field, by the library (``read_meta``) and by ``izdat play`` (exit 2, no audio written); never a
traceback, never a full-scale DC WAV from a NaN gain."""

import copy
import json
import math
import os
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from izdat.audio import Audio
from izdat.cli import main
from izdat.errors import IzdatError, PictureError
from izdat.lathe import Lathe
from izdat.optical import RecordMeta, read_meta
from izdat.optical._read import META_MAX_BYTES
from izdat.outputs import write_record

RATE = 44100
GAIN = ("level", "velocity_m_s_per_unit_at_1khz")


@pytest.fixture(scope="module")
def cut(tmp_path_factory):
    """A 1 s 1 kHz tone on a 100 mm disc, drawn at 800 DPI, with its record.json (made once)."""
    out = tmp_path_factory.mktemp("cut")
    t = np.arange(RATE) / RATE
    record = Lathe(diameter_mm=100, inner_radius_mm=25, outer_margin_mm=5).cut(
        Audio((0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32), RATE))
    write_record(record, out, formats=("png", "json"), dpi=800, seed=1)
    (out / "level_db").write_text(repr(_rms_db(record.playback().samples)))
    return out


def _rms_db(samples):
    return float(20 * np.log10(np.sqrt(np.mean(samples[RATE // 10:-RATE // 10] ** 2))))


@pytest.fixture(scope="module")
def base(cut):
    return json.loads((cut / "record.json").read_text())


def changed(base, path, value):
    """``base`` with the field at ``path`` set to ``value`` (deleted if ``value`` is ``KeyError``)."""
    meta = copy.deepcopy(base)
    node = meta
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return meta


def refused(path) -> str:
    """The sentence ``read_meta`` refuses ``path`` with (it must refuse it)."""
    with pytest.raises(PictureError) as err:
        read_meta(path)
    return one_sentence(err.value)


def one_sentence(exc) -> str:
    text = str(exc)
    assert text and "\n" not in text and "\r" not in text and "Traceback" not in text, text
    assert len(text) < 400, text
    return text


# -- the cases the sweep found ---------------------------------------------------------------------

RAW_CASES = {
    "a list": ("[1]", "holds a list, not an object"),
    "200k-deep nesting": ("[" * 200_000 + "]" * 200_000, "nested too deep"),
    "deep nesting in a field": ('{"rpm": ' + "[" * 200_000 + "]" * 200_000 + "}", "nested too deep"),
    "not JSON": ("rpm = 78", "it is not JSON"),
    "empty": ("", "it is not JSON"),
    "a 5000-digit number": ('{"rpm": ' + "9" * 5000 + "}", "it is not JSON"),
    "null": ("null", "holds null, not an object"),
}


@pytest.mark.parametrize("case", RAW_CASES)
def test_a_file_that_is_no_record_json_is_refused_in_one_sentence(tmp_path, case):
    text, words = RAW_CASES[case]
    path = tmp_path / "bad.json"
    path.write_text(text)
    message = refused(path)
    assert words in message and str(path) in message


def test_a_folder_or_a_missing_file_is_said_to_be_one(tmp_path):
    assert "is a folder" in refused(tmp_path)
    assert "No such file" in refused(tmp_path / "none.json")


def test_a_fifo_a_device_or_a_huge_file_is_refused_without_reading_it(tmp_path):
    """A FIFO would wait for a writer forever and /dev/zero never ends: neither is opened."""
    fifo = tmp_path / "record.json"
    os.mkfifo(fifo)
    said = []
    reader = threading.Thread(target=lambda: said.append(refused(fifo)), daemon=True)
    reader.start()
    reader.join(10)
    if reader.is_alive():                       # it opened the FIFO and waits: give it a writer, then fail
        with open(fifo, "w") as f:
            f.write("{}")
        reader.join(10)
        pytest.fail("read_meta waited on a FIFO")
    assert said and said[0].endswith("is a FIFO, not izdat's record.json")
    if Path("/dev/zero").exists():
        assert refused("/dev/zero") == "/dev/zero is a device, not izdat's record.json"
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as f:
        f.truncate(META_MAX_BYTES + 1)           # sparse: 16 MiB + 1 of zeros, written in no time
    assert "is larger than 16 MiB: not izdat's record.json" in refused(huge)


#: (field path, value, words of the sentence): each a lie record.json may tell.
LIES = [
    (GAIN, math.nan, "level.velocity_m_s_per_unit_at_1khz must be a positive finite number (m/s per unit of audio, 1e-12 to 1e+12), not NaN"),
    (GAIN, math.inf, "level.velocity_m_s_per_unit_at_1khz must be a positive finite number (m/s per unit of audio, 1e-12 to 1e+12), not Infinity"),
    (GAIN, 0, "must be a positive finite number (m/s per unit of audio, 1e-12 to 1e+12), not 0"),
    (GAIN, -0.5, "must be a positive finite number (m/s per unit of audio, 1e-12 to 1e+12), not -0.5"),
    (GAIN, "0.5", 'must be a positive finite number (m/s per unit of audio, 1e-12 to 1e+12), not "0.5"'),
    (GAIN, None, "must be given, not null"),
    (GAIN, 1e-300, "1e-12 to 1e+12), not 1e-300"),          # the audio divided into infinities
    (GAIN, 1e300, "1e-12 to 1e+12), not 1e+300"),
    (("rpm",), 0, "rpm must be between 5 and 200 rev/min, not 0"),
    (("rpm",), math.nan, "rpm must be between 5 and 200 rev/min, not nan"),
    (("rpm",), math.inf, "rpm must be between 5 and 200 rev/min, not inf"),
    (("rpm",), 10 ** 30, "rpm must be between 5 and 200 rev/min, not a number of 31 digits"),
    (("rpm",), True, "rpm must be a number between 5 and 200 rev/min, not true"),
    (("rpm",), "78", 'rpm must be a number between 5 and 200 rev/min, not "78"'),
    (("rpm",), "7" * 1000, 'rpm must be a number between 5 and 200 rev/min, not "777777'),
    (("rpm",), [78] * 1000, "rpm must be a number between 5 and 200 rev/min, not a list"),
    (("picture", "width_px"), {"": 10 ** 300}, "picture.width_px must be a whole number between 1 and 1000000 px, "
                                               "not an object"),
    (("rpm",), KeyError, "gives no rpm"),
    (("samples_per_revolution",), 0, "samples_per_revolution must be between 6154 and 147692 at 78 rpm"),
    (("samples_per_revolution",), 10 ** 9, "samples_per_revolution must be between 6154 and 147692"),
    (("samples_per_revolution",), 33923.5, "samples_per_revolution must be a whole number"),
    (("diameter_mm",), 10, "diameter_mm must be between 50 and 420 mm, not 10"),
    (("groove_start_radius_mm",), 70, "groove_start_radius_mm must be between 0 and 50 mm (inside the disc), not 70"),
    (("groove_start_radius_mm",), -1, "groove_start_radius_mm must be between 0 and 50 mm"),
    (("groove_start_radius_mm",), 0, "groove_start_radius_mm must be more than 0 mm"),
    (("program_end_radius_mm",), 60, "program_end_radius_mm must be between 4 and 45 mm (inside the groove's start)"),
    (("program_end_radius_mm",), 2, "program_end_radius_mm must be between 4 and 45 mm"),
    (("program_end_radius_mm",), 45.00000000000001, "must be less than groove_start_radius_mm (45 mm)"),
    (("program_start_sample",), -1, "program_start_sample must be between 0 and"),
    (("program_end_sample",), 10, "program_end_sample must come after program_start_sample (50884), not 10"),
    (("locked_groove_start_sample",), 60000, "locked_groove_start_sample must come after program_end_sample"),
    (("locked_groove_start_sample",), 10 ** 12, "locked_groove_start_sample must be between"),
    (("groove_width_um",), 0, "groove_width_um must be between 10 and 1000 µm, not 0"),
    (("groove_width_um",), math.nan, "groove_width_um must be between 10 and 1000 µm, not nan"),
    (("min_land_um",), -1, "min_land_um must be between 0 and 500 µm, not -1"),
    (("direction",), "up", "direction must be 'counterclockwise' or 'clockwise', not \"up\""),
    (("equalisation", "name"), "loud", "equalisation.name must be one of blumlein, columbia, aes, nab, riaa, none, 78"),
    (("equalisation", "name"), 7, "equalisation.name must be one of"),
    (("equalisation", "turnover_hz"), 300.0, "equalisation.turnover_hz must be the blumlein curve's 250.0, not 300.0"),
    (("equalisation", "riaa"), "yes", 'equalisation.riaa must be true or false, not "yes"'),
    (("equalisation",), [1], "equalisation must be an object, not a list"),
    (("equalisation",), {"name": "78", "turnover_hz": math.nan}, "equalisation.turnover_hz must be between 20 and 2000 Hz"),
    (("equalisation",), {"name": "riaa-custom"}, "equalisation.name must be one of"),
    (("equalisation",), KeyError, "gives no equalisation"),
    (("level",), 3, "level must be an object, not a number"),
    (("picture",), "x", "picture must be an object, not a string"),
    (("picture", "dpi"), 0, "picture.dpi must be between 50 and 20000 dots per inch, not 0"),
    (("picture", "dpi"), math.nan, "picture.dpi must be between 50 and 20000 dots per inch, not nan"),
    (("picture", "width_px"), 0, "picture.width_px must be between 1 and 1000000 px, not 0"),
    (("picture", "height_px"), 1.5, "picture.height_px must be a whole number"),
    (("picture", "spiral_centre_px"), [1e9, 5], "picture.spiral_centre_px must be between 0 and"),
    (("picture", "spiral_centre_px"), [1, 2, 3], "picture.spiral_centre_px must be two numbers of pixels"),
    (("picture", "spiral_centre_px"), [math.nan, 5], "picture.spiral_centre_px must be between 0 and"),
    (("picture", "groove_start_angle_deg"), KeyError, "places the spiral but picture.groove_start_angle_deg is not given"),
    (("picture", "groove_start_angle_deg"), math.inf, "picture.groove_start_angle_deg must be between -360 and 360"),
    (("picture", "file"), 3, "picture.file must be a file name, not 3"),
    (("groove_sample_rate_hz",), 48000.0, "groove_sample_rate_hz must be samples_per_revolution × rpm / 60 "
                                          "(44099.9 Hz), not 48000.0"),
    (("groove_sample_rate_hz",), math.nan, "groove_sample_rate_hz must be between 8000 and 192000 Hz, not nan"),
    (("total_samples",), 10, "total_samples must be between "),
    (("total_samples",), 400_001, "total_samples must be whole turns of samples_per_revolution (33923)"),
    (("program_start_radius_mm",), 46, "program_start_radius_mm must be between"),
    (("locked_groove_radius_mm",), 44, "locked_groove_radius_mm must be between 0 and"),
    (("locked_groove_radius_mm",), 0, "locked_groove_radius_mm must be more than 0 mm, not 0"),
]


@pytest.mark.parametrize("path, value, words", LIES, ids=[f"{'.'.join(p)}={v!r}"[:60] for p, v, _ in LIES])
def test_a_record_json_that_lies_is_refused_naming_the_field(tmp_path, base, path, value, words):
    bad = tmp_path / "record.json"
    bad.write_text(json.dumps(changed(base, path, value)))
    message = refused(bad)
    assert message.startswith(f"{bad}") and words in message, message


def test_python_reads_1e309_as_infinity_and_nan_literally_both_are_refused(tmp_path, base):
    text = json.dumps(base)
    for literal in ("1e309", "NaN", "-Infinity"):
        bad = tmp_path / f"{literal}.json"
        bad.write_text(text.replace('"rpm": 78.0', f'"rpm": {literal}'))
        assert "rpm must be between 5 and 200 rev/min" in refused(bad)


def test_the_true_record_json_is_read_and_agrees_with_itself(cut, base):
    meta = read_meta(cut / "record.json")
    assert meta.rpm == 78.0 and meta.samples_per_rev == base["samples_per_revolution"] == 33923
    assert meta.gain_m == base["level"]["velocity_m_s_per_unit_at_1khz"] > 0
    assert meta.eq.name == "blumlein" and meta.eq.turnover_hz == 250.0
    assert meta.diameter_mm == 100.0 and 0 < meta.end_radius_mm < meta.start_radius_mm <= 50
    assert 0 < meta.program_start < meta.program_end <= meta.locked_start
    assert meta.picture_size == (base["picture"]["width_px"], base["picture"]["height_px"])


def test_a_78_era_curve_with_its_own_numbers_is_read(tmp_path, base):
    good = tmp_path / "record.json"
    good.write_text(json.dumps(changed(base, ("equalisation",), {"name": "78", "turnover_hz": 300,
                                                                  "rolloff_10khz_db": -5.0})))
    eq = read_meta(good).eq
    assert (eq.name, eq.turnover_hz, eq.rolloff_10khz_db) == ("78", 300.0, -5.0)


def test_a_meta_made_by_hand_is_checked_too():
    with pytest.raises(PictureError, match="gain_m must be a positive finite number"):
        RecordMeta(gain_m=math.nan)
    with pytest.raises(PictureError, match="rpm must be between 5 and 200"):
        RecordMeta(rpm=0)
    with pytest.raises(PictureError, match="program_end must come after program_start"):
        RecordMeta(program_start=100, program_end=50)
    assert RecordMeta().rpm == 78.0


def test_a_groove_is_never_played_at_a_nan_gain(cut):
    from izdat.optical import OpticalReader, load_picture
    groove = OpticalReader().read(load_picture(cut / "record.png"), read_meta(cut / "record.json"))
    with pytest.raises(PictureError, match="gain_m must be a positive finite number"):
        groove.playback(gain_m=math.nan)
    with pytest.raises(PictureError, match="rpm must be between 5 and 200"):
        OpticalReader(rpm=0)


# -- the command line --------------------------------------------------------------------------------

CLI_CASES = {
    "[1]": "[1]",
    "200k-deep nesting": "[" * 200_000 + "]" * 200_000,
    "rpm 0": ("rpm", 0),
    "rpm NaN": ("rpm", "NaN"),
    "rpm 1e309": ("rpm", "1e309"),
    "gain NaN": ("velocity_m_s_per_unit_at_1khz", "NaN"),
}


@pytest.mark.parametrize("case", CLI_CASES)
def test_izdat_play_refuses_a_lying_meta_with_exit_2_and_writes_nothing(izdat, cut, base, tmp_path, case):
    spec = CLI_CASES[case]
    bad = tmp_path / "bad.json"
    if isinstance(spec, str):
        bad.write_text(spec)
    else:
        key, literal = spec
        text = json.dumps(base)
        old = f'"{key}": {json.dumps(base[key] if key in base else base["level"][key])}'
        assert old in text
        bad.write_text(text.replace(old, f'"{key}": {literal}'))
    wav = tmp_path / "x.wav"
    code, out, err = izdat("play", cut / "record.png", "--meta", bad, "-o", wav)
    said = (out + err).strip()
    assert code == 2, said
    assert said.startswith("izdat: ") and "\n" not in said and "Traceback" not in said, said
    assert not wav.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]


def test_izdat_play_with_the_true_meta_plays_the_tone(izdat, cut, tmp_path):
    """The control: the same command with the record's own record.json writes the tone at the level
    the record holds (the lathe's limiter took 3.9 dB off the 0.5-peak tone at this small radius)."""
    wav = tmp_path / "x.wav"
    code, out, err = izdat("play", cut / "record.png", "--meta", cut / "record.json", "-o", wav)
    assert code == 0, out + err
    audio, rate = soundfile.read(wav)
    assert rate == RATE and abs(len(audio) / rate - 1.0) < 0.01
    held = float((cut / "level_db").read_text())
    assert -13.0 < held < -12.0
    assert abs(_rms_db(audio) - held) < 2.0


# -- keep them out: properties -------------------------------------------------------------------------

JSON_LEAVES = (st.none() | st.booleans() | st.floats(allow_nan=True, allow_infinity=True)
               | st.integers() | st.integers(min_value=-10 ** 400, max_value=10 ** 400)
               | st.sampled_from([0, -1, 1, 10 ** 18, 2 ** 63, 1e308, 5e-324, -0.0]) | st.text(max_size=20))
ANY_JSON = st.recursive(JSON_LEAVES, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=30)
PROPERTY = settings(max_examples=300, deadline=2000, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def read_or_refuse(meta) -> RecordMeta | None:
    """``read_meta`` of ``meta`` written as JSON: a RecordMeta, or None after checking the refusal is
    izdat's own error in one sentence."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "record.json"
        path.write_text(json.dumps(meta, allow_nan=True))
        try:
            return read_meta(path)
        except IzdatError as exc:
            one_sentence(exc)
            return None


def sane(meta: RecordMeta):
    """What every meta read_meta returns holds: finite numbers in range, in order, inside the disc."""
    assert 5 <= meta.rpm <= 200
    assert 8000 <= meta.samples_per_rev * meta.rpm / 60 <= 192_000
    assert math.isfinite(meta.gain_m) and 1e-12 <= meta.gain_m <= 1e12
    assert 0 <= meta.program_start < meta.program_end <= meta.locked_start
    assert 0 < meta.start_radius_mm <= (meta.diameter_mm or 420) / 2
    assert meta.end_radius_mm is None or 4 <= meta.end_radius_mm < meta.start_radius_mm
    assert 10 <= meta.groove_width_um <= 1000 and 0 <= meta.land_um <= 500
    assert meta.direction in (None, "counterclockwise", "clockwise")
    assert meta.dpi is None or 50 <= meta.dpi <= 20000
    if meta.centre_px is not None:
        assert all(math.isfinite(v) for v in meta.centre_px) and math.isfinite(meta.start_angle_deg)


@PROPERTY
@given(ANY_JSON)
def test_any_json_value_is_read_or_refused_in_one_sentence(value):
    meta = read_or_refuse(value)
    if meta is not None:
        sane(meta)


def leaf_paths(node, prefix=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield prefix + (key,)
            yield from leaf_paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield prefix + (i,)
            yield from leaf_paths(value, prefix + (i,))


@PROPERTY
@given(data=st.data())
def test_a_valid_record_with_one_field_changed_is_read_or_refused(base, data):
    paths = sorted(leaf_paths(base), key=repr)
    path = data.draw(st.sampled_from(paths), label="field")
    value = data.draw(st.just(KeyError) | ANY_JSON, label="value")
    meta = read_or_refuse(changed(base, path, value))
    if meta is not None:
        sane(meta)


@PROPERTY
@given(data=st.data())
def test_a_valid_record_with_its_numbers_pushed_is_read_or_refused(base, data):
    """Numbers near and past their limits (the mutations most likely to slip through a range check)."""
    numeric = [p for p in leaf_paths(base)
               if isinstance(_at(base, p), (int, float)) and not isinstance(_at(base, p), bool)]
    path = data.draw(st.sampled_from(sorted(numeric, key=repr)), label="field")
    old = _at(base, path)
    value = data.draw(st.sampled_from([0, -old, old * 1e6, old / 1e6, old + 1, old - 1, math.nan, math.inf,
                                       -math.inf, float(old), int(old), 10 ** 20]), label="value")
    meta = read_or_refuse(changed(base, path, value))
    if meta is not None:
        sane(meta)


def _at(node, path):
    for key in path:
        node = node[key]
    return node
