"""Audio in: any common format and rate, resampled without loss of the band."""

import numpy as np
import pytest
import soundfile

from izdat.audio import Audio, load, save
from izdat.errors import AudioError


@pytest.mark.parametrize("fmt", ["WAV", "FLAC", "OGG", "MP3"])
@pytest.mark.parametrize("rate", [22050, 48000])
def test_common_formats_and_rates_load(tmp_path, fmt, rate):
    t = np.arange(rate) / rate
    path = tmp_path / f"tone.{fmt.lower()}"
    soundfile.write(path, 0.3 * np.sin(2 * np.pi * 440 * t), rate, format=fmt)
    audio = load(path)
    assert audio.sample_rate == rate and audio.channels == 1
    assert audio.duration_s == pytest.approx(1.0, abs=0.06)      # MP3 and OGG pad a little
    spectrum = np.abs(np.fft.rfft(audio.samples[: rate // 2]))
    assert np.argmax(spectrum) == pytest.approx(220, abs=1)      # 440 Hz in a half-second window


def test_resampling_keeps_a_tone_within_0_01_db():
    t = np.arange(48000) / 48000
    audio = Audio(0.5 * np.sin(2 * np.pi * 1000 * t), 48000).resample(44099.9)
    rms = np.sqrt(np.mean(audio.samples[4000:-4000] ** 2))
    assert 20 * np.log10(rms / (0.5 / np.sqrt(2))) == pytest.approx(0, abs=0.01)


def test_save_is_atomic_and_round_trips(tmp_path):
    audio = Audio(np.linspace(-0.5, 0.5, 1000), 8000)
    path = save(audio, tmp_path / "x.wav", subtype="FLOAT")
    assert np.allclose(load(path).samples, audio.samples)
    assert [p.name for p in tmp_path.iterdir()] == ["x.wav"]


def test_mono_averages_channels():
    stereo = Audio(np.stack([np.ones(10), -np.ones(10) * 0.5], 1), 1000)
    assert np.allclose(stereo.mono().samples, 0.25)


@pytest.mark.parametrize("rate", [0, -44100, float("nan"), 1e12])
def test_absurd_sample_rates_are_refused(rate):
    with pytest.raises(AudioError, match="sample_rate"):
        Audio(np.zeros(10), rate)
