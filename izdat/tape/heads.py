"""Record and playback heads: equalisation per speed, and the playback losses against wavenumber.

Every response here is a function of frequency (Hz) and the tape speed (m/s) through the
wavenumber ``k = 2πf/v`` (rad/m); lengths are in metres.

Where the treble goes (a deck aligned the way its service manual says):

- the **record** side writes the standard flux (the NAB/IEC curve, falling above 1/(2πT2)) times
  the maker's treble boost. The boost is what the record EQ has left over after making up the
  record-side losses (bias erasure, self-demagnetisation) at optimum bias — those are folded into
  the aligned boost, not modelled separately — and it also pre-compensates the playback head's
  losses, which the reproduce amplifier (set to the standard curve with a calibration tape) does not;
- the **playback** side reads the tape through the head's spacing, gap and thickness losses
  (all in k = 2πf/v) and the reproduce amplifier's bandwidth, then inverts the standard curve
  (1 + jωT2 rises with frequency).

The tape's particle noise is written after the record EQ, so it sees only the playback side: its
spectrum after playback is the inverse standard curve times the head losses and the amplifier's
roll-off, and it peaks in the upper mid-treble and falls above the deck's upper limit.

References
----------
- Playback losses: Wallace, "The reproduction of magnetically recorded signals", *Bell Syst. Tech.
  J.* 30 (1951) 1145–1173 (spacing e^(−kd), thickness (1 − e^(−kδ))/(kδ)); gap loss
  sin(kg/2)/(kg/2): Westmijze, *Philips Res. Rep.* 8 (1953).
- Azimuth loss sin(πw·tanθ/λ)/(πw·tanθ/λ): Mee & Daniel, *Magnetic Recording Technology*, 1996.
- Equalisation time constants (µs): IEC 60094-3 / NAB; see docs/tape.md.
- Reproduce amplifier bandwidth: a 4th-order Butterworth low-pass (the amplifier's own roll-off
  and the LC bias trap that keeps the 40–100 kHz bias out of the playback path; order and shape
  assumed, see docs/tape.md).
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.signal as sps

__all__ = ["EQ_TIME_CONSTANTS_US", "playback_loss", "azimuth_loss", "flux_response",
           "LinearChain", "record_chain", "playback_chain", "bias_response"]

#: Standard equalisation time constants (T1 bass, T2 treble) in µs per (standard, speed in cm/s):
#: IEC 60094-3 (European and Soviet GOST decks) and NAB (American/Japanese export decks).
EQ_TIME_CONSTANTS_US = {
    ("IEC", 19.05): (None, 70.0),
    ("IEC", 9.53): (3180.0, 90.0),
    ("IEC", 4.76): (3180.0, 120.0),
    ("NAB", 19.05): (3180.0, 50.0),
    ("NAB", 9.53): (3180.0, 90.0),
    ("NAB", 4.76): (3180.0, 120.0),
}

#: Taps of the linear-phase FIR that carries the playback losses (broad, smooth curves).
LOSS_TAPS = 33
#: Order of the reproduce amplifier's upper roll-off (Butterworth; amplifier + bias trap, assumed).
PLAYBACK_BW_ORDER = 4


def playback_loss(f_hz, speed_m_s, *, spacing_m, depth_m, gap_m):
    """Playback-head loss (linear amplitude, real) for frequency ``f_hz`` at ``speed_m_s``.

    Product of spacing e^(−kd), recorded-depth (1 − e^(−kδ))/(kδ) and gap sin(kg/2)/(kg/2) losses
    with k = 2πf/v. Normalised to 1 at f → 0.
    """
    k = 2 * np.pi * np.asarray(f_hz, dtype=np.float64) / speed_m_s
    kd = np.maximum(k * depth_m, 1e-12)
    thickness = -np.expm1(-kd) / kd
    gap = np.sinc(k * gap_m / (2 * np.pi))  # np.sinc(x) = sin(πx)/(πx)
    return np.exp(-k * spacing_m) * thickness * gap


def azimuth_loss(f_hz, speed_m_s, *, track_width_m, angle_rad):
    """Azimuth loss (linear amplitude) for a head tilted ``angle_rad`` from the recorded track."""
    wavelength = speed_m_s / np.maximum(np.asarray(f_hz, dtype=np.float64), 1e-9)
    return np.sinc(track_width_m * np.tan(angle_rad) / wavelength)


def flux_response(f_hz, t1_us, t2_us):
    """Standard recorded-flux curve (complex): (1 + 1/(jωT1)) / (1 + jωT2), T1 may be None."""
    s = 2j * np.pi * np.asarray(f_hz, dtype=np.float64)
    h = 1.0 / (1.0 + s * t2_us * 1e-6)
    if t1_us:
        h = h * (1.0 + 1.0 / (s * t1_us * 1e-6))
    return h


def _bilinear_sos(b_s, a_s, fs_hz, warp_hz):
    """A digital SOS from analog polynomials, bilinear with pre-warping at ``warp_hz``."""
    warp_hz = min(warp_hz, 0.45 * fs_hz)
    z, p, k = sps.tf2zpk(b_s, a_s)
    w = 2 * np.pi * warp_hz
    fs_eff = w / (2 * np.tan(w / (2 * fs_hz)))
    zd, pd, kd = sps.bilinear_zpk(z, p, k, fs_eff)
    return sps.zpk2sos(zd, pd, kd)


def _peaking_sos(f0_hz, gain_db, q, fs_hz):
    """RBJ peaking biquad (Bristow-Johnson, *Audio EQ Cookbook*) as one SOS row."""
    f0_hz = min(f0_hz, 0.45 * fs_hz)
    amp = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * f0_hz / fs_hz
    alpha = np.sin(w0) / (2 * q)
    b = np.array([1 + alpha * amp, -2 * np.cos(w0), 1 - alpha * amp])
    a = np.array([1 + alpha / amp, -2 * np.cos(w0), 1 - alpha / amp])
    return np.concatenate([b / a[0], a / a[0]])[None, :]


class LinearChain:
    """A cascade of IIR sections and one linear-phase FIR, applied with its delay removed."""

    def __init__(self, sos: np.ndarray, fir: np.ndarray | None, fs_hz: float):
        self.sos = sos.astype(np.float64)
        self.fir = None if fir is None else fir.astype(np.float32)
        self.fs_hz = fs_hz

    def response(self, f_hz) -> np.ndarray:
        """Complex response at ``f_hz`` (FIR delay removed)."""
        f = np.atleast_1d(np.asarray(f_hz, dtype=np.float64))
        h = sps.sosfreqz(self.sos, worN=f, fs=self.fs_hz)[1] if len(self.sos) else np.ones(f.size, complex)
        if self.fir is not None:
            _, hf = sps.freqz(self.fir.astype(np.float64), worN=f, fs=self.fs_hz)
            delay = (self.fir.size - 1) // 2
            h = h * hf * np.exp(2j * np.pi * f * delay / self.fs_hz)
        return h

    def __call__(self, x: np.ndarray) -> np.ndarray:
        # the IIR sections in float64: the bass poles near z = 1 (the record EQ's 20 Hz stop, the
        # playback's T1 and roll-off) turn float32 round-off into low-frequency tones that the
        # playback EQ lifts (−82 dBc at 100 Hz under a 4.3 kHz tone in float32; issue 16 item 8)
        y = (sps.sosfilt(self.sos, np.asarray(x, dtype=np.float64)).astype(np.float32)
             if len(self.sos) else np.asarray(x, dtype=np.float32))
        if self.fir is not None and y.size:
            delay = (self.fir.size - 1) // 2
            y = np.convolve(y, self.fir, mode="full")[delay: delay + x.size].astype(np.float32)
        return y


def _loss_fir(fs_hz, speed_m_s, spacing_m, depth_m, gap_m, track_width_m, angle_rad):
    """Linear-phase FIR (LOSS_TAPS) for the playback losses, by frequency sampling + Hann window."""
    n = 512
    f = np.fft.rfftfreq(n, 1 / fs_hz)
    mag = playback_loss(f, speed_m_s, spacing_m=spacing_m, depth_m=depth_m, gap_m=gap_m)
    mag = mag * azimuth_loss(f, speed_m_s, track_width_m=track_width_m, angle_rad=angle_rad)
    h = np.fft.fftshift(np.fft.irfft(mag, n))
    c = n // 2
    half = LOSS_TAPS // 2
    taps = h[c - half: c + half + 1] * np.hanning(LOSS_TAPS + 2)[1:-1]
    return taps / taps.sum() * mag[0]


#: The recording zone (where the bias field falls to the switching fields) lies ``record_zone_m``
#: past the record gap at the optimum bias and moves with the bias current, Δx = zone·(b − 1)
#: (the head field falls about as 1/x beyond the gap, so the distance where it equals the switching
#: field grows in proportion to the current; Bertram 1994 §9). Its loss e^(−k·Δx) is the over-bias
#: treble loss; under-bias moves the zone nearer the gap and gives treble back, but the zone stops
#: at the gap's edge: Δx ≥ −UNDER_BIAS_ZONE_FLOOR·zone (assumption). Issue 16 item 2: with a fixed
#: 0.3 µm per unit of bias, 2× over-bias cost only 1.7 dB of 10 kHz re 315 Hz at 9.53 cm/s.
UNDER_BIAS_ZONE_FLOOR = 0.35
#: The most treble current the record amplifier adds to make up that loss, dB.
ZONE_BOOST_MAX_DB = 20.0


def _zone_shelf_s(speed_m_s, zone_m):
    """Analog first-order shelf (zero, pole in rad/s) standing for e^(−k·zone_m): its −3 dB point
    where k·zone_m = 0.35 and its floor −ZONE_BOOST_MAX_DB (a first-order approximation of the
    exponential: the recording zone's loss is smooth, its exact shape assumed)."""
    wp = 0.35 * speed_m_s / zone_m          # k·x = 0.35 → ω = 0.35·v/x
    wz = wp * 10 ** (ZONE_BOOST_MAX_DB / 20)
    return wz, wp


@functools.lru_cache(maxsize=128)
def zone_shelf_sos(fs_hz, speed_m_s, zone_m, invert=False):
    """The record-zone loss as one IIR section (bilinear, pre-warped at the pole); ``invert``: the
    record amplifier's treble current that makes it up (the exact inverse, minimum phase)."""
    wz, wp = _zone_shelf_s(speed_m_s, zone_m)
    if invert:
        wz, wp = wp, wz
    b_s, a_s = [1.0 / wz, 1.0], [1.0 / wp, 1.0]
    return _bilinear_sos(b_s, a_s, fs_hz, min(wp, wz) / (2 * np.pi))


def zone_loss(f_hz, speed_m_s, zone_m):
    """The record-zone loss (linear, real): the magnitude of :func:`zone_shelf_sos`'s analog shelf.

    The written remanence is averaged over the recording zone, ``zone_m`` past the gap at the
    optimum bias: a treble loss after the recording, which the record amplifier makes up with more
    treble current before it — so loud treble meets the coating's saturation at a higher field than
    the bass does (the short-wavelength saturation of tape; Bertram 1994 §9, Mallinson 1993 ch. 6).
    """
    wz, wp = _zone_shelf_s(speed_m_s, zone_m)
    w = 2 * np.pi * np.asarray(f_hz, dtype=np.float64)
    return np.abs((1 + 1j * w / wz) / (1 + 1j * w / wp))


def bias_response(f_hz, speed_m_s, bias, depth_m, coating=(), zone_m=0.0):
    """Record-side response (linear, real) of ``bias`` against the optimum, normalised to 1 at f → 0
    (the sensitivity change itself is in the recording's table).

    The coating's depth layers (spread over 2·``depth_m``) record with their own small-signal
    sensitivity at this bias (:func:`izdat.tape.preisach.layer_sensitivity`: the deep layers are
    biased last) and are read through e^(−k·y); the recording zone (``zone_m`` past the gap at the
    optimum) moves Δx = zone_m·(b − 1) with the bias (at least −UNDER_BIAS_ZONE_FLOOR·zone_m): e^(−k·Δx).
    ``coating`` is ``(sigma, spread_i)`` of the tape's coating (:class:`izdat.tape.preisach.BiasedRecording`;
    empty: the default coating).
    """
    from izdat.tape.preisach import DEPTH_ETA, layer_sensitivity
    k = 2 * np.pi * np.asarray(f_hz, dtype=np.float64) / speed_m_s
    y = np.linspace(0.0, 2.0 * depth_m, DEPTH_ETA.size)
    read = np.exp(-np.multiply.outer(k, y))
    sb, s1 = layer_sensitivity(float(bias), *coating), layer_sensitivity(1.0, *coating)
    if np.sum(sb) > 1e-9 * np.sum(s1):  # (with no bias nothing small is recorded: no depth shape)
        ratio = (read @ sb) / (read @ s1) * (np.sum(s1) / np.sum(sb))
    else:
        ratio = np.ones_like(k)
    shift = zone_m * max(float(bias) - 1.0, -UNDER_BIAS_ZONE_FLOOR)
    return ratio * np.exp(-k * shift)


def _fir(mag):
    """Linear-phase FIR (LOSS_TAPS) of the magnitude ``mag`` sampled on rfftfreq(512)."""
    n = 512
    h = np.fft.fftshift(np.fft.irfft(mag, n))
    c = n // 2
    half = LOSS_TAPS // 2
    taps = h[c - half: c + half + 1] * np.hanning(LOSS_TAPS + 2)[1:-1]
    return taps / taps.sum() * mag[0]


@functools.lru_cache(maxsize=64)
def after_zone_chain(fs_hz, speed_m_s, zone_m):
    """The record-zone loss :func:`zone_loss` applied to the written remanence (one IIR section)."""
    return LinearChain(zone_shelf_sos(fs_hz, speed_m_s, zone_m), None, fs_hz)


@functools.lru_cache(maxsize=256)
def record_chain(fs_hz, t1_us, t2_us, boost_hz, boost_db, boost_q, speed_m_s=0.0, bias=1.0,
                 depth_m=1e-6, zone_m=0.0, coating=(), tape_zone_m=None):
    """Record equalisation: the standard flux curve times the maker's treble boost (peaking), and
    the treble change of ``bias`` against the optimum (:func:`bias_response`; none at the optimum,
    where the record-side losses are folded into the aligned boost, module docstring).
    """
    sos = []
    # (1 + 1/(sT1)) / (1 + sT2) = (sT1 + 1) / (sT1 (1 + sT2)); a 20 Hz pole keeps it realisable.
    t2 = t2_us * 1e-6
    if t1_us:
        t1 = t1_us * 1e-6
        eps = 2 * np.pi * 20.0  # the record amplifier stops its bass boost below 20 Hz
        b_s = np.polymul([t1, 1.0], [1.0])
        a_s = np.polymul([t1, t1 * eps], [t2, 1.0])
    else:
        b_s, a_s = [1.0], [t2, 1.0]
    sos.append(_bilinear_sos(b_s, a_s, fs_hz, 1 / (2 * np.pi * t2)))
    if boost_db:
        sos.append(_peaking_sos(boost_hz, boost_db, boost_q, fs_hz))
    fir = None
    if speed_m_s > 0 and zone_m > 0:  # the treble current that makes up the record-zone loss
        sos.append(zone_shelf_sos(fs_hz, speed_m_s, zone_m, invert=True))
    if speed_m_s > 0 and bias != 1.0:  # the bias's change of treble
        fir = _fir(bias_response(np.fft.rfftfreq(512, 1 / fs_hz), speed_m_s, bias, depth_m, coating,
                                 zone_m if tape_zone_m is None else tape_zone_m))
    return LinearChain(np.concatenate(sos), fir, fs_hz)


@functools.lru_cache(maxsize=256)
def playback_chain(fs_hz, speed_m_s, t1_us, t2_us, spacing_m, depth_m, gap_m, track_width_m,
                   angle_rad, bump_hz, bump_db, low_hz, bw_hz=None):
    """Playback: head losses (FIR), inverse flux curve, head bump, the low-frequency roll-off and
    the reproduce amplifier's upper bandwidth ``bw_hz`` (Butterworth, PLAYBACK_BW_ORDER; none
    when ``bw_hz`` is None or within 2 % of Nyquist)."""
    t2 = t2_us * 1e-6
    sos = []
    # inverse flux curve: sT1(1 + sT2)/(1 + sT1), with a pole at 4·Nyquist to keep it proper
    top = 1 / (2 * np.pi * 2 * fs_hz)
    if t1_us:
        t1 = t1_us * 1e-6
        b_s = np.polymul([t1, 0.0], [t2, 1.0])
        a_s = np.polymul([t1, 1.0], [top, 1.0])
    else:
        b_s, a_s = [t2, 1.0], [top, 1.0]
    sos.append(_bilinear_sos(b_s, a_s, fs_hz, 1 / (2 * np.pi * t2)))
    if bump_db:
        sos.append(_peaking_sos(bump_hz, bump_db, 1.2, fs_hz))
    sos.append(sps.butter(2, low_hz, btype="highpass", fs=fs_hz, output="sos"))
    if bw_hz and bw_hz < 0.49 * fs_hz:
        sos.append(sps.butter(PLAYBACK_BW_ORDER, bw_hz, fs=fs_hz, output="sos"))
    fir = _loss_fir(fs_hz, speed_m_s, spacing_m, depth_m, gap_m, track_width_m, angle_rad)
    return LinearChain(np.concatenate(sos), fir, fs_hz)
