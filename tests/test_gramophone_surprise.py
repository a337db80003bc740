"""The authorities' fake records: a few seconds of the song, a mocking voice, then silence."""

import json
import sys

import numpy as np
import pytest
import soundfile
from scipy import signal

import izdat
from izdat.errors import AudioError
from izdat.gramophone import surprise
from izdat.gramophone.surprise import speak

FS = 44_100


@pytest.fixture(scope="module")
def song():
    t = np.arange(20 * FS) / FS
    return izdat.Audio(0.4 * np.sin(2 * np.pi * 440 * t) * (1 + 0.5 * np.sin(2 * np.pi * 2 * t)), FS)


def test_a_few_seconds_of_the_song_then_a_voice_then_silence(song):
    fake = surprise(song, song_s=5.0, voice="builtin", seed=1)
    s = fake.samples
    assert fake.sample_rate == FS and fake.duration_s == pytest.approx(20.0, abs=1e-3)
    assert np.allclose(s[:int(4.9 * FS)], song.samples[:int(4.9 * FS)], atol=1e-6)   # the song, untouched
    assert np.max(np.abs(s[int(5.0 * FS):int(5.5 * FS)])) == 0                       # the needle lifted
    voice = s[int(5.5 * FS):]
    spoken = np.flatnonzero(np.abs(voice) > 1e-3)
    assert 3.0 < spoken[-1] / FS < 10.0                                                 # seconds of speech
    assert np.max(np.abs(s[int(5.5 * FS) + spoken[-1] + FS // 10:])) == 0               # then silence
    rms_song = np.sqrt(np.mean(song.samples[:5 * FS] ** 2))
    rms_voice = np.sqrt(np.mean(voice[spoken[0]:spoken[-1]] ** 2))
    assert 0.25 < rms_voice / rms_song < 3.0          # as loud as a 0.95 peak lets a voice be
    assert np.max(np.abs(voice)) <= 0.95 + 1e-6


def test_the_builtin_voice_sounds_like_a_voice():
    """Voiced: most energy between 100 Hz and 4 kHz, with a pitch near 100–190 Hz."""
    v = speak("Ну что, стиляга?", voice="builtin", seed=0)
    s = v.samples.astype(float)
    spectrum = np.abs(np.fft.rfft(s)) ** 2
    f = np.fft.rfftfreq(len(s), 1 / v.sample_rate)
    assert spectrum[(f > 100) & (f < 4000)].sum() / spectrum.sum() > 0.8
    voiced = s[int(0.05 * v.sample_rate):int(0.35 * v.sample_rate)]
    ac = np.correlate(voiced, voiced, "full")[len(voiced) - 1:]
    lag = np.argmax(ac[int(v.sample_rate / 200):int(v.sample_rate / 80)]) + int(v.sample_rate / 200)
    assert 80 < v.sample_rate / lag < 200


def test_the_same_seed_gives_the_same_fake(song):
    a = surprise(song, voice="builtin", seed=3).samples
    b = surprise(song, voice="builtin", seed=3).samples
    assert np.array_equal(a, b)


@pytest.mark.parametrize("kwargs, words", [({"song_s": 0.1}, "song_s must be between 0.5 and 60 s"),
                                           ({"voice": "robot"}, "voice must be 'auto', 'espeak' or 'builtin'"),
                                           ({"text": "  "}, "needs something to say")])
def test_bad_surprise_settings_get_one_sentence(song, kwargs, words):
    with pytest.raises(AudioError, match=words):
        surprise(song, **kwargs)


def test_izdat_cut_surprise_cuts_the_fake(monkeypatch, capsys, tmp_path):
    """`izdat cut --surprise`: the preview holds the song's start, then the voice, then silence."""
    t = np.arange(18 * FS) / FS
    soundfile.write(tmp_path / "song.wav", 0.4 * np.sin(2 * np.pi * 440 * t), FS)
    from izdat.cli import main
    monkeypatch.setattr(sys, "argv", ["izdat", "cut", str(tmp_path / "song.wav"), "-o", str(tmp_path / "rec"),
                                      "--surprise", "--format", "wav,json"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert (exit_.value.code or 0) == 0, capsys.readouterr().err
    preview, rate = soundfile.read(tmp_path / "rec" / "preview.wav")
    assert len(preview) / rate == pytest.approx(18.0, abs=0.01)
    band = signal.sosfiltfilt(signal.butter(4, [400, 480], "bandpass", fs=rate, output="sos"), preview)

    def a440(a, b):          # the tone wows by ±3 % with the burnt hole: take the band around it
        return np.sqrt(2 * np.mean(band[int(a * rate):int(b * rate)] ** 2))
    assert a440(1, 5) > 0.3                                   # the song (cut at 0.4) …
    assert a440(17, 18) < 0.01 * a440(1, 5)                   # … and none of it at the end: surface only
    assert np.sqrt(np.mean(preview[-rate:] ** 2)) < np.sqrt(np.mean(preview[rate:5 * rate] ** 2)) / 3
    meta = json.loads((tmp_path / "rec" / "record.json").read_text())
    assert meta["preview"]["gramophone"]["material"]["name"] == "xray"


def test_izdat_play_needle_stylus_plays_the_picture_on_a_gramophone(monkeypatch, capsys, tmp_path):
    """`izdat play PICTURE --needle stylus`: as long as the optical read, at a sound level, and a
    needle it does not know is one sentence with exit code 2."""
    from izdat.cli import main

    def run(*args):
        monkeypatch.setattr(sys, "argv", ["izdat", *map(str, args)])
        with pytest.raises(SystemExit) as exit_:
            main()
        return exit_.value.code or 0, capsys.readouterr().err

    t = np.arange(2 * FS) / FS
    soundfile.write(tmp_path / "song.wav", 0.4 * np.sin(2 * np.pi * 440 * t), FS)
    assert run("cut", tmp_path / "song.wav", "-o", tmp_path / "rec", "--format", "png,json", "--dpi", "600",
               "--diameter", "100", "--inner-radius", "25", "--outer-margin", "5")[0] == 0
    picture = tmp_path / "rec" / "record.png"
    assert run("play", picture, "-o", tmp_path / "optical.wav")[0] == 0
    code, err = run("play", picture, "-o", tmp_path / "stylus.wav", "--needle", "stylus", "--plays", "3")
    assert code == 0, err
    optical, _ = soundfile.read(tmp_path / "optical.wav")
    stylus, rate = soundfile.read(tmp_path / "stylus.wav")
    assert rate == FS and abs(len(stylus) - len(optical)) <= 2
    assert 0.05 < np.sqrt(np.mean(stylus ** 2)) < 1.0
    code, err = run("play", picture, "-o", tmp_path / "x.wav", "--needle", "diamond")
    assert code == 2 and "--needle must be 'optical' or 'stylus'" in err
    code, err = run("play", picture, "-o", tmp_path / "x.wav", "--passes", "9")
    assert code == 2 and "passes must be one of 2, 3, 4, not 9" in err and not (tmp_path / "x.wav").exists()
