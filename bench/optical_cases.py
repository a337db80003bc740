"""The optical needle's round trips case by case, with the SI-SNR per band: a tool for studying
what limits the read (the bench's own table is bench_optical.py).

    python bench/optical_cases.py tone,music,toned,musicd          # 3 s excerpts, 1200 DPI
    python bench/optical_cases.py toneb,musicb --seconds 3          # one degradation alone
    python bench/optical_cases.py music --passes 4 --lam 1          # the fine fit's settings

Cases: ``tone`` or ``music`` (120 mm record, −6 dB, izdat's radiograph), then a suffix: none
(clean, read with record.json), ``2400`` (2400 DPI), ``d`` (the bench's degraded picture, read
without the json's centre), ``d-X`` (the degraded picture less one degradation X), or one
degradation alone: ``b`` blur 1 px, ``n`` noise σ = 2, ``j`` JPEG 85, ``r`` rotation 17° and 10 mm
off (read without the centre), ``l`` light gradient, ``s`` dust and scratches.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_optical import DEGRADED, FS, music, tone  # noqa: E402
from izdat.age import Ageing, age  # noqa: E402
from izdat.lathe import Lathe  # noqa: E402
from izdat.optical import OpticalReader, _fine, load_picture, read_meta, scan_of  # noqa: E402
from izdat.optical.metrics import si_snr_db, tone_snr_db  # noqa: E402
from izdat.outputs import write_record  # noqa: E402

ALONE = {"b": dict(blur_px=1.0), "n": dict(noise=2.0), "j": dict(jpeg_quality=85),
         "r": dict(rotate_deg=17.0, shift_mm=10.0), "l": dict(light=0.25), "s": dict(dust=40, scratches=3)}
LESS = {"b": dict(blur_px=0.0), "n": dict(noise=0.0), "j": dict(jpeg_quality=0),
        "r": dict(rotate_deg=0.0, shift_mm=0.0), "l": dict(light=0.0), "s": dict(dust=0, scratches=0)}
BANDS = [(60, 200), (200, 1000), (1000, 3000), (3000, 5000)]


def run(case, seconds, folder, passes):
    kind = "tone" if case.startswith("tone") else "music"
    rest = case[len(kind):]
    dpi = 2400 if rest == "2400" else 1200
    record = Lathe(diameter_mm=120, inner_radius_mm=30, level_db=-6).cut(tone(seconds) if kind == "tone" else music(seconds))
    write_record(record, folder, formats=("png", "json"), dpi=dpi, seed=1)
    meta, scan = read_meta(folder / "record.json"), load_picture(folder / "record.png")
    ageing = None
    if rest.startswith("d-"):
        ageing = dataclasses.replace(DEGRADED, **LESS[rest[2:]])
    elif rest == "d":
        ageing = DEGRADED
    elif rest in ALONE:
        ageing = Ageing(**ALONE[rest])
    if ageing is not None:
        scan = scan_of(age(scan.pixels, dpi=dpi, ageing=ageing, seed=2), dpi)
        if ageing.rotate_deg or ageing.shift_mm:
            meta = dataclasses.replace(meta, centre_px=None)
    t = time.perf_counter()
    groove = OpticalReader(passes=passes).read(scan, meta)
    out = groove.playback(eq=meta.eq, gain_m=meta.gain_m).samples
    ref = record.playback().samples
    bands = " ".join(f"{si_snr_db(out, ref, FS, band_hz=b):5.1f}" for b in BANDS)
    t_snr = f"{tone_snr_db(out, FS):5.1f}" if kind == "tone" else "    —"
    print(f"{case:10s} tone {t_snr}  SI-SNR {si_snr_db(out, ref, FS):5.1f}  bands [{bands}]  "
          f"blur {groove.notes['blur_px']:.2f} px  confidence {groove.confidence:.3f}  {time.perf_counter() - t:.1f} s",
          flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--passes", type=int, default=2, help="fine passes (OpticalReader's passes)")
    ap.add_argument("--lam", type=float, default=None, help="smoothness prior λ (default the reader's)")
    args = ap.parse_args()
    if args.lam is not None:
        _fine.follow.__kwdefaults__["lam"] = args.lam
    print(f"bands (SI-SNR, dB): {', '.join(f'{a}–{b} Hz' for a, b in BANDS)}")
    with tempfile.TemporaryDirectory() as tmp:
        for k, case in enumerate(args.cases.split(",")):
            run(case, args.seconds, Path(tmp) / str(k), args.passes)


if __name__ == "__main__":
    main()
