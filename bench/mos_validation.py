"""Compare the per-call MOS Vaxel stores with PESQ on real (synthetic) speech.

Speech from espeak-ng, G.711 mu-law at 20 ms packets, random (Bernoulli) and
bursty (Gilbert: loss in the bad state, mean burst 4 packets) loss at several
rates, decoded with simple concealment (repeat the last good frame, 6 dB
quieter per consecutive lost frame: the least a phone or browser does).
PESQ (ITU-T P.862, MOS-LQO per P.862.1, ``pesq`` package, narrowband) scores
the decoded audio against the clean G.711 reference.

The same loss pattern goes, packet by packet in virtual time, through
``media.rtpstats.ReceiveStats`` and ``media.CallQualityWatch`` exactly as on a
live leg (5 s intervals, no RTT: Ta = 60 ms buffer + 20 ms packet), and the
whole-call MOS of ``CallQualityWatch.summary()`` - what the call record
stores - is compared with PESQ: per condition, the mean over the seeds of
both. Columns: the calibrated default (a listener that conceals,
``PCMU-CONCEAL``), and for reference the rating without concealment
(``mos_plc = false``).

Run: .venv/bin/python bench/mos_validation.py [--seeds 1-6]
Needs: espeak-ng on PATH, the ``pesq`` package (``pip install pesq``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from media import CallQualityWatch  # noqa: E402
from media.rtpstats import ReceiveStats  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

FS = 8000
FRAME = 160  # 20 ms
RATES = [0.0, 0.01, 0.03, 0.05, 0.10, 0.20]
SEEDS = [1, 2, 3, 4, 5, 6]  # the calibration set; 7-12 are the hold-out (docs/mos.md)
MEAN_BURST = 4.0
TEXT = (
    "Thank you for calling. All our agents are busy at the moment. "
    "Your call is important to us, please stay on the line. "
    "You are number three in the queue. The expected waiting time is four minutes. "
    "Press one if you would like us to call you back."
)


def speech() -> np.ndarray:
    if shutil.which("espeak-ng") is None:
        sys.exit("espeak-ng not found on PATH: apt-get install -y espeak-ng")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-s", "150", "-w", str(wav), TEXT], check=True)
        audio, rate = sf.read(wav, dtype="float64")
    g = np.gcd(FS, rate)
    audio = resample_poly(audio, FS // g, rate // g)
    audio = audio / (np.max(np.abs(audio)) + 1e-9) * 0.5
    n = len(audio) // FRAME * FRAME
    return (audio[:n] * 32767).astype(np.int16)


def g711_frames(pcm: np.ndarray) -> list[bytes]:
    raw = pcm.tobytes()
    return [audioop.lin2ulaw(raw[i : i + FRAME * 2], 2) for i in range(0, len(raw), FRAME * 2)]


def decode(frames: list[bytes], lost: np.ndarray) -> np.ndarray:
    out: list[np.ndarray] = []
    last = np.zeros(FRAME)
    run = 0
    for frame, is_lost in zip(frames, lost, strict=True):
        if is_lost:
            run += 1
            out.append(last * (0.5**run))
        else:
            run = 0
            last = np.frombuffer(audioop.ulaw2lin(frame, 2), dtype=np.int16).astype(np.float64)
            out.append(last)
    return np.concatenate(out)


def loss_pattern(n: int, rate: float, bursty: bool, rng: np.random.Generator) -> np.ndarray:
    if rate == 0.0:
        return np.zeros(n, dtype=bool)
    if not bursty:
        return rng.random(n) < rate
    q = 1.0 / MEAN_BURST  # bad -> good
    p = rate * q / (1.0 - rate)  # good -> bad, stationary loss = p / (p + q)
    lost = np.zeros(n, dtype=bool)
    bad = False
    u = rng.random(n)
    for i in range(n):
        bad = (u[i] >= q) if bad else (u[i] < p)
        lost[i] = bad
    return lost


def stored_mos(lost: np.ndarray, plc: bool | None) -> tuple[float, float, float]:
    """(MOS, loss %, BurstR) the call record stores for a leg that received this pattern.

    ``plc`` as ``[rtp] mos_plc``: None (auto) rates an unknown listener with the
    calibrated default (conceals); False without concealment.
    """
    stats = ReceiveStats(playout_delay=0.060)
    watch = CallQualityWatch("bench", interval=5.0, plc=plc)
    watch.add_leg("caller", stats, 0.0)
    n = len(lost)
    # Two warm-up packets satisfy RFC 3550 probation; the lag frames flush decisions.
    for i in range(n + 70):
        t = i * 0.02
        if not (i >= 2 and i - 2 < n and lost[i - 2]):
            stats.on_packet(i & 0xFFFF, i * FRAME, t, 99)
        watch.poll(t, t)
    mos, quality = watch.summary()
    leg = quality["legs"]["caller"]
    assert mos is not None
    return mos, float(leg["loss_pct"]), float(leg["burst_ratio"])


def _ranks(x: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(x)).astype(float)


def _seeds(text: str) -> list[int]:
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(x) for x in text.split(",")]


def on_packet_cost(n: int = 200_000) -> float:
    stats = ReceiveStats()
    rng = np.random.default_rng(0)
    jitter = rng.random(n) * 0.004
    args = [(i & 0xFFFF, (i * FRAME) & 0xFFFFFFFF, i * 0.02 + float(jitter[i])) for i in range(n)]
    f = stats.on_packet
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for seq, ts, t in args:
            f(seq, ts, t, 1)
        best = min(best, time.perf_counter() - start)
        stats = ReceiveStats()
        f = stats.on_packet
    return best / n * 1e6


def main() -> None:
    from pesq import pesq

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1-6", help="e.g. 1-6 or 7,8,9 (default 1-6)")
    seeds = _seeds(parser.parse_args().seeds)
    pcm = speech()
    frames = g711_frames(pcm)
    reference = decode(frames, np.zeros(len(frames), dtype=bool))
    load = os.getloadavg()
    print(
        f"speech: {len(pcm) / FS:.1f} s, {len(frames)} packets of 20 ms, seeds {seeds}, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n"
    )
    print(
        "| loss model | target % | measured % | BurstR | PESQ MOS-LQO (repeat + fade) "
        "| stored MOS, assumed: conceals (PCMU-CONCEAL) | error | stored MOS, no concealment |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    labels: list[str] = []
    pesq_scores: list[float] = []
    est: list[float] = []
    est_noplc: list[float] = []
    for bursty in (False, True):
        for rate in RATES:
            if bursty and rate == 0.0:
                continue
            scores, moss, noplc, losses, ratios = [], [], [], [], []
            for seed in seeds:
                rng = np.random.default_rng(seed * 1000 + int(rate * 100) + (500 if bursty else 0))
                lost = loss_pattern(len(frames), rate, bursty, rng)
                scores.append(pesq(FS, reference, decode(frames, lost), "nb"))
                mos, ppl, burst_r = stored_mos(lost, None)
                moss.append(mos)
                losses.append(ppl)
                ratios.append(burst_r)
                noplc.append(stored_mos(lost, False)[0])
            score, m, m0 = float(np.mean(scores)), float(np.mean(moss)), float(np.mean(noplc))
            labels.append(f"{'Gilbert' if bursty else 'random'} {rate * 100:.0f} %")
            pesq_scores.append(score)
            est.append(m)
            est_noplc.append(m0)
            print(
                f"| {'Gilbert' if bursty else 'random'} | {rate * 100:.0f} "
                f"| {np.mean(losses):.2f} | {np.mean(ratios):.2f} | {score:.2f} | {m:.2f} "
                f"| {m - score:+.2f} | {m0:.2f} |"
            )
    p, e, e0 = np.array(pesq_scores), np.array(est), np.array(est_noplc)
    print(
        f"\nMean absolute error vs PESQ: {np.mean(np.abs(e - p)):.2f} (assumed: conceals), "
        f"{np.mean(np.abs(e0 - p)):.2f} (no concealment); largest {np.max(np.abs(e - p)):.2f}"
    )
    rho = np.corrcoef(_ranks(p), _ranks(e))[0, 1]
    print(f"Spearman rank correlation (PESQ vs stored MOS, conceals): {rho:.3f}")
    swapped = [
        f"{labels[i]} / {labels[j]} (PESQ {p[i]:.2f} vs {p[j]:.2f})"
        for i in range(len(p))
        for j in range(i + 1, len(p))
        if (p[i] - p[j]) * (e[i] - e[j]) < 0
    ]
    print(
        f"Pairs of conditions ranked differently: {len(swapped)}"
        + "".join(f"\n  {x}" for x in swapped)
    )
    print(f"\nReceiveStats.on_packet: {on_packet_cost():.2f} us per packet (best of 3 x 200k)")


if __name__ == "__main__":
    main()
