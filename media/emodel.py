"""ITU-T G.107 E-model: transmission rating R and its mapping to MOS.

Pure functions, no state. The E-model rates a connection as

    R = Ro - Is - Id - Ie_eff + A

where every term is computed from the G.107 input parameters with the
formulas of G.107 clause 7 (signal-to-noise ratio Ro, simultaneous
impairment Is, delay impairment Id, effective equipment impairment Ie_eff)
and A is the advantage factor. Nothing is hard-coded: with the G.107
default parameters (Table 3 of G.107) the formulas yield R = 93.2.

Units follow G.107: loudness ratings and levels in dB, delays in ms,
packet-loss probability Ppl in percent.

Codec values (Ie, Bpl) come from ITU-T G.113 Appendix I (Tables I.1 and
I.3, "provisional planning values"); see ``CODECS`` and docs/mos.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "CODECS",
    "CodecImpairment",
    "RFactor",
    "codec_impairment",
    "effective_equipment_impairment",
    "burst_ratio",
    "mos_from_r",
    "one_way_delay_ms",
    "r_factor",
    "r_factor_details",
]


@dataclass(frozen=True, slots=True)
class CodecImpairment:
    """Planning values of one codec for the E-model.

    ie: equipment impairment factor (G.113 App. I Table I.1).
    bpl: packet-loss robustness factor (G.113 App. I Table I.3), for the
        packet-loss concealment named in ``plc``.
    frame_ms, lookahead_ms: codec frame and look-ahead (the codec's own
        Recommendation), used for the codec part of the one-way delay.
    burst_weight: exponent applied to the measured BurstR before G.107 uses
        it (1: G.107 as written; below 1 for a concealment that a listening
        test shows to be less sensitive to bursts, see docs/mos.md).
    """

    name: str
    ie: float
    bpl: float
    frame_ms: float
    lookahead_ms: float
    plc: str
    burst_weight: float = 1.0


# Sources: G.113 Appendix I, Table I.1 (Ie) and Table I.3 (Bpl). Only
# codecs with both a published Ie and a published Bpl are listed; the
# Bpl values were measured with the packet sizes noted in Table I.3
# (G.711 10 ms, G.729A 20 ms, G.723.1 30 ms).
_G711_PLC = CodecImpairment("G.711 with G.711 App. I PLC", 0.0, 25.1, 0.125, 0.0, "G.711 App. I")
_G711_NOPLC = CodecImpairment("G.711 without PLC", 0.0, 4.3, 0.125, 0.0, "none")
# Calibrated, not from G.113: G.711 played by a receiver that conceals a lost
# frame by repeating the last one, fading 6 dB per further lost frame (the
# least a phone or browser does). Bpl and burst_weight fitted so that the
# stored per-call MOS matches PESQ MOS-LQO on bench/mos_validation.py
# (random and Gilbert loss 0-20 %; docs/mos.md "Calibration").
_G711_CONCEAL = CodecImpairment(
    "G.711 with receiver concealment (calibrated)",
    0.0,
    12.0,
    0.125,
    0.0,
    "repeat and fade (calibrated against PESQ)",
    burst_weight=0.1,
)
CODECS: dict[str, CodecImpairment] = {
    # Plain PCMU/PCMA: G.113's "with PLC" (G.711 Appendix I concealment).
    # Live legs use -CONCEAL (a receiver that conceals, the calibrated default)
    # or -NOPLC (one known not to); media/concealment.py decides per leg.
    "PCMU": _G711_PLC,
    "PCMA": _G711_PLC,
    "PCMU-CONCEAL": _G711_CONCEAL,
    "PCMA-CONCEAL": _G711_CONCEAL,
    "PCMU-NOPLC": _G711_NOPLC,
    "PCMA-NOPLC": _G711_NOPLC,
    "G729": CodecImpairment("G.729A + VAD", 11.0, 19.0, 10.0, 5.0, "codec built-in"),
    "G723": CodecImpairment("G.723.1 6.3 kbit/s + VAD", 15.0, 16.1, 30.0, 7.5, "codec built-in"),
    "GSM-EFR": CodecImpairment("GSM-EFR", 5.0, 10.0, 20.0, 0.0, "codec built-in"),
}


def codec_impairment(codec: str) -> CodecImpairment:
    """Look up a codec by its RTP encoding name (case-insensitive)."""
    key = codec.upper().replace("/", "-")
    if key == "G729A":
        key = "G729"
    try:
        return CODECS[key]
    except KeyError:
        known = ", ".join(sorted(CODECS))
        raise ValueError(
            f"E-model: no G.113 impairment values for codec {codec!r}; known: {known}"
        ) from None


@dataclass(frozen=True, slots=True)
class RFactor:
    """The E-model terms for one connection (all on the R scale)."""

    r: float
    ro: float
    is_: float
    id: float
    idte: float
    idle: float
    idd: float
    ie_eff: float
    a: float

    @property
    def mos(self) -> float:
        return mos_from_r(self.r)


def _lg(x: float) -> float:
    return math.log10(x)


def _p10(x: float) -> float:
    return 10.0 ** (x / 10.0)


def effective_equipment_impairment(ie: float, bpl: float, ppl: float, burst_r: float) -> float:
    """G.107 clause 7.4: Ie_eff = Ie + (95 - Ie) * Ppl / (Ppl / BurstR + Bpl).

    ppl is the packet-loss probability in percent; burst_r the burst ratio
    (1 for random loss, > 1 for bursty loss).
    """
    if not 0.0 <= ppl <= 100.0:
        raise ValueError(f"E-model: Ppl must be a percentage in 0..100, got {ppl}")
    if burst_r <= 0.0:
        raise ValueError(f"E-model: BurstR must be > 0, got {burst_r}")
    if bpl <= 0.0:
        raise ValueError(f"E-model: Bpl must be > 0, got {bpl}")
    return ie + (95.0 - ie) * ppl / (ppl / burst_r + bpl)


def burst_ratio(p: float, q: float) -> float:
    """G.107 clause 7.4 BurstR for a 2-state Markov (Gilbert) loss model.

    p: probability that a packet is lost given the previous one arrived;
    q: probability that a packet arrives given the previous one was lost.
    BurstR = 1 / (p + q); 1 for random loss (q = 1 - p). With no loss at
    all (p = 0) the ratio is 1 by convention.
    """
    if p <= 0.0:
        return 1.0
    if p + q <= 0.0:
        # Loss never ends: the longest possible burst. Cap to keep R finite.
        return 1.0 / p
    return 1.0 / (p + q)


def r_factor_details(
    *,
    ie: float = 0.0,
    bpl: float = 4.3,
    ppl: float = 0.0,
    burst_r: float = 1.0,
    ta: float = 0.0,
    t: float | None = None,
    tr: float | None = None,
    slr: float = 8.0,
    rlr: float = 2.0,
    stmr: float = 15.0,
    lstr: float = 18.0,
    ds: float = 3.0,
    dr: float = 3.0,
    telr: float = 65.0,
    wepl: float = 110.0,
    nc: float = -70.0,
    nfor: float = -64.0,
    ps: float = 35.0,
    pr: float = 35.0,
    qdu: float = 1.0,
    a: float = 0.0,
    mt: float = 100.0,
    st: float = 1.0,
) -> RFactor:
    """Compute every E-model term (ITU-T G.107, clause 7).

    Defaults are G.107 Table 3. Delays in ms: ``ta`` absolute one-way delay,
    ``t`` mean one-way delay of the echo path (default: ``ta``, the usual
    VoIP assumption), ``tr`` round-trip delay of the 4-wire loop (default:
    ``2 * t``). ``mt``/``st`` are the delay sensitivity parameters of the
    2011+ edition (defaults 100 ms / 1 reproduce the earlier Idd formula).
    ``ppl`` in percent. Loudness ratings (SLR, RLR, OLR, STMR, LSTR, TELR,
    WEPL) and attenuation (Ds, Dr) in dB; Nc in dBm0p, Nfor in dBmp,
    Ps/Pr in dB(A).
    """
    if ta < 0.0:
        raise ValueError(f"E-model: one-way delay Ta must be >= 0 ms, got {ta}")
    t = ta if t is None else t
    tr = 2.0 * t if tr is None else tr

    # 7.2 Basic signal-to-noise ratio Ro.
    olr = slr + rlr
    nfo = nfor + rlr
    pre = pr + 10.0 * _lg(1.0 + _p10(10.0 - lstr))
    nor = rlr - 121.0 + pre + 0.008 * (pre - 35.0) ** 2
    nos = ps - slr - ds - 100.0 + 0.004 * (ps - olr - ds - 14.0) ** 2
    no = 10.0 * _lg(_p10(nc) + _p10(nos) + _p10(nor) + _p10(nfo))
    ro = 15.0 - 1.5 * (slr + no)

    # 7.3 Simultaneous impairment Is = Iolr + Ist + Iq.
    xolr = olr + 0.2 * (64.0 + no - rlr)
    iolr = 20.0 * ((1.0 + (xolr / 8.0) ** 8) ** (1.0 / 8.0) - xolr / 8.0)
    stmro = -10.0 * _lg(_p10(-stmr) + math.exp(-t / 4.0) * _p10(-telr))
    ist = (
        12.0 * (1.0 + ((stmro - 13.0) / 6.0) ** 8) ** (1.0 / 8.0)
        - 28.0 * (1.0 + ((stmro + 1.0) / 19.4) ** 35) ** (1.0 / 35.0)
        - 13.0 * (1.0 + ((stmro - 3.0) / 33.0) ** 13) ** (1.0 / 13.0)
        + 29.0
    )
    q = 37.0 - 15.0 * _lg(qdu)
    g = 1.07 + 0.258 * q + 0.0602 * q**2
    z = 46.0 / 30.0 - g / 40.0
    y = (ro - 100.0) / 15.0 + 46.0 / 8.4 - g / 9.0
    iq = 15.0 * _lg(1.0 + 10.0**y + 10.0**z)
    is_ = iolr + ist + iq

    # 7.4 Delay impairment Id = Idte + Idle + Idd.
    terv = telr - 40.0 * _lg((1.0 + t / 10.0) / (1.0 + t / 150.0)) + 6.0 * math.exp(-0.3 * t**2)
    if stmr < 9.0:
        terv += ist / 2.0  # TERVs: low sidetone masks less echo.
    roe = -1.5 * (no - rlr)
    re = 80.0 + 2.5 * (terv - 14.0)
    if t < 1.0:
        idte = 0.0  # below 1 ms talker echo is perceived as sidetone
    else:
        idte = ((roe - re) / 2.0 + math.sqrt((roe - re) ** 2 / 4.0 + 100.0) - 1.0) * (
            1.0 - math.exp(-t)
        )
    if stmr > 20.0:
        idte = math.sqrt(idte**2 + ist**2)
    rle = 10.5 * (wepl + 7.0) * (tr + 1.0) ** -0.25
    idle = (ro - rle) / 2.0 + math.sqrt((ro - rle) ** 2 / 4.0 + 169.0)
    if ta <= mt:
        idd = 0.0
    else:
        x = _lg(ta / mt) / _lg(2.0)
        e = 6.0 * st
        idd = 25.0 * ((1.0 + x**e) ** (1.0 / e) - 3.0 * (1.0 + (x / 3.0) ** e) ** (1.0 / e) + 2.0)
    id_ = idte + idle + idd

    ie_eff = effective_equipment_impairment(ie, bpl, ppl, burst_r)
    r = ro - is_ - id_ - ie_eff + a
    return RFactor(r, ro, is_, id_, idte, idle, idd, ie_eff, a)


def r_factor(**params: float) -> float:
    """Transmission rating R of ITU-T G.107: R = Ro - Is - Id - Ie_eff + A.

    Accepts the keyword parameters of :func:`r_factor_details` (G.107
    Table 3 defaults for everything not given). The usual inputs are
    ``ie``, ``bpl`` (from :data:`CODECS`), ``ppl`` (percent),
    ``burst_r`` and ``ta`` (one-way delay in ms). Defaults give R = 93.2.
    """
    return r_factor_details(**params).r


def mos_from_r(r: float) -> float:
    """G.107 Annex B: estimated conversational MOS (MOS-CQE) from R.

    MOS = 1 for R < 0; 4.5 for R > 100; otherwise
    1 + 0.035 R + R (R - 60) (100 - R) * 7e-6.
    """
    if r <= 0.0:
        return 1.0
    if r >= 100.0:
        return 4.5
    return 1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6


def one_way_delay_ms(
    *, rtt_ms: float | None, jitter_buffer_ms: float, codec: CodecImpairment, packet_ms: float
) -> float:
    """Mouth-to-ear delay estimate used as the E-model's Ta.

    network one-way (RTT / 2, 0 when no RTT is known yet) + nominal
    jitter-buffer delay + packetization (one packet) + codec look-ahead.
    """
    network = 0.0 if rtt_ms is None else max(rtt_ms, 0.0) / 2.0
    return network + jitter_buffer_ms + max(packet_ms, codec.frame_ms) + codec.lookahead_ms
