"""Compare Vaxel's E-model MOS estimate with PESQ on real (synthetic) speech.

Speech from espeak-ng, G.711 mu-law at 20 ms packets, random (Bernoulli) and
bursty (Gilbert: loss in the bad state, mean burst 4 packets) loss at several
rates, decoded with simple concealment (repeat the last good frame, 6 dB
quieter per consecutive lost frame). The packets that survive are fed to
``media.rtpstats.ReceiveStats``; its measured loss and BurstR go into
``media.emodel``. PESQ (ITU-T P.862, MOS-LQO per P.862.1, ``pesq`` package,
narrowband) scores the decoded audio against the clean G.711 reference.

PESQ is a listening-quality measure with no delay term, so the E-model is
evaluated with Ta = 0 here (delay impairment of a local call only).

Run: .venv/bin/python bench/mos_validation.py
Needs: espeak-ng on PATH, the ``pesq`` package.
"""

from __future__ import annotations

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

from media.emodel import CODECS, mos_from_r, r_factor  # noqa: E402
from media.rtpstats import ReceiveStats  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

FS = 8000
FRAME = 160  # 20 ms
RATES = [0.0, 0.01, 0.03, 0.05, 0.10, 0.20]
SEEDS = [1, 2, 3]
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


def measure(lost: np.ndarray) -> tuple[float, float]:
    """Loss % and BurstR as Vaxel measures them from the packets that arrive."""
    stats = ReceiveStats(playout_delay=0.060)
    n = len(lost)
    # Two warm-up packets satisfy RFC 3550 probation; the lag frames flush decisions.
    for i in range(n + 70):
        if i >= 2 and i - 2 < n and lost[i - 2]:
            continue
        stats.on_packet(i & 0xFFFF, i * FRAME, i * 0.02, 99)
    snap = stats.snapshot()
    return snap.effective_loss * 100.0, snap.burst.burst_ratio


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

    pcm = speech()
    frames = g711_frames(pcm)
    reference = decode(frames, np.zeros(len(frames), dtype=bool))
    plc = CODECS["PCMU"].bpl
    noplc = CODECS["PCMU-NOPLC"].bpl
    print(f"speech: {len(pcm) / FS:.1f} s, {len(frames)} packets of 20 ms, seeds {SEEDS}\n")
    print(
        "| loss model | target % | measured % | BurstR | PESQ MOS-LQO "
        f"| E-model MOS (Bpl {plc}) | E-model MOS (Bpl {noplc}) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    pesq_scores: list[float] = []
    est_plc: list[float] = []
    est_noplc: list[float] = []
    for bursty in (False, True):
        for rate in RATES:
            if bursty and rate == 0.0:
                continue
            scores, losses, ratios = [], [], []
            for seed in SEEDS:
                rng = np.random.default_rng(seed * 1000 + int(rate * 100) + (500 if bursty else 0))
                lost = loss_pattern(len(frames), rate, bursty, rng)
                degraded = decode(frames, lost)
                scores.append(pesq(FS, reference, degraded, "nb"))
                ppl, burst_r = measure(lost)
                losses.append(ppl)
                ratios.append(burst_r)
            ppl, burst_r, score = np.mean(losses), np.mean(ratios), np.mean(scores)
            m_plc = mos_from_r(r_factor(ie=0.0, bpl=plc, ppl=ppl, burst_r=burst_r))
            m_noplc = mos_from_r(r_factor(ie=0.0, bpl=noplc, ppl=ppl, burst_r=burst_r))
            pesq_scores.append(score)
            est_plc.append(m_plc)
            est_noplc.append(m_noplc)
            print(
                f"| {'Gilbert' if bursty else 'random'} | {rate * 100:.0f} | {ppl:.2f} "
                f"| {burst_r:.2f} | {score:.2f} | {m_plc:.2f} | {m_noplc:.2f} |"
            )
    r_plc = np.corrcoef(pesq_scores, est_plc)[0, 1]
    r_noplc = np.corrcoef(pesq_scores, est_noplc)[0, 1]
    print(f"\nPearson r (PESQ vs E-model, Bpl {plc}): {r_plc:.3f}")
    print(f"Pearson r (PESQ vs E-model, Bpl {noplc}): {r_noplc:.3f}")
    mae_plc = np.mean(np.abs(np.array(pesq_scores) - est_plc))
    mae_noplc = np.mean(np.abs(np.array(pesq_scores) - est_noplc))
    print(f"Mean absolute difference: {mae_plc:.2f} (Bpl {plc}), {mae_noplc:.2f} (Bpl {noplc})")
    print(f"\nReceiveStats.on_packet: {on_packet_cost():.2f} us per packet (best of 3 x 200k)")


if __name__ == "__main__":
    main()
