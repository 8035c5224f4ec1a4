"""ITU-T G.107 E-model: defaults, loss impairment, delay impairment, MOS mapping.

Where a number comes from a published source the comment says which; other
expected values are hand evaluations of the G.107 formulas, written out.
"""

import math

import pytest

from media.emodel import (
    CODECS,
    burst_ratio,
    codec_impairment,
    effective_equipment_impairment,
    mos_from_r,
    one_way_delay_ms,
    r_factor,
    r_factor_details,
)


def test_default_parameters_give_the_g107_reference_rating() -> None:
    # G.107 clause 7: "the default values ... result in a very high quality with R = 93.2".
    details = r_factor_details()
    assert 93.19 <= details.r <= 93.21
    assert r_factor() == pytest.approx(details.r)
    # Commonly quoted decomposition of the default rating (Ro, Is, Id).
    assert details.ro == pytest.approx(94.77, abs=0.01)
    assert details.is_ == pytest.approx(1.41, abs=0.01)
    assert details.id == pytest.approx(0.15, abs=0.01)
    assert details.ie_eff == 0.0
    assert mos_from_r(details.r) == pytest.approx(4.41, abs=0.005)


def test_rating_is_computed_from_parameters_not_hard_coded() -> None:
    # Louder circuit noise must lower Ro and so R.
    assert r_factor(nc=-50.0) < r_factor() - 1.0
    assert r_factor(a=5.0) == pytest.approx(r_factor() + 5.0)


@pytest.mark.parametrize(
    ("codec", "published_ie_at_2pct"),
    [
        # Planning values "Ie at 2 % random loss" tabulated from G.113 App. I
        # (e.g. G.711 with PLC: 7, G.729A+VAD: 19, G.723.1+VAD 6.3k: 24).
        ("PCMU", 7.0),
        ("G729", 19.0),
        ("G723", 24.0),
    ],
)
def test_ie_eff_at_two_percent_random_loss_matches_published_planning_values(
    codec: str, published_ie_at_2pct: float
) -> None:
    c = codec_impairment(codec)
    assert effective_equipment_impairment(c.ie, c.bpl, 2.0, 1.0) == pytest.approx(
        published_ie_at_2pct, abs=0.5
    )


@pytest.mark.parametrize("ppl", [1.0, 2.0, 5.0])
@pytest.mark.parametrize("burst_r", [1.0, 2.0])
def test_ie_eff_for_g711_with_plc_follows_the_g107_formula(ppl: float, burst_r: float) -> None:
    # Hand evaluation: Ie = 0, Bpl = 25.1 -> Ie_eff = 95 * Ppl / (Ppl / BurstR + 25.1).
    # Ppl=1: 3.64 (random) / 3.71 (BurstR 2); 2: 7.01 / 7.28; 5: 15.78 / 17.21.
    expected = 95.0 * ppl / (ppl / burst_r + 25.1)
    c = CODECS["PCMU"]
    assert effective_equipment_impairment(c.ie, c.bpl, ppl, burst_r) == pytest.approx(expected)


def test_bursty_loss_impairs_more_than_random_loss_at_the_same_rate() -> None:
    random_r = r_factor(ie=0, bpl=25.1, ppl=3.0, burst_r=1.0)
    bursty_r = r_factor(ie=0, bpl=25.1, ppl=3.0, burst_r=3.0)
    assert bursty_r < random_r


def test_g711_without_plc_is_far_more_sensitive_to_loss() -> None:
    with_plc = r_factor(ie=0, bpl=CODECS["PCMU"].bpl, ppl=2.0)
    without = r_factor(ie=0, bpl=CODECS["PCMU-NOPLC"].bpl, ppl=2.0)
    # Hand evaluation: Ie_eff = 95*2/(2+4.3) = 30.2 vs 95*2/(2+25.1) = 7.0.
    assert with_plc - without == pytest.approx(95 * 2 / 6.3 - 95 * 2 / 27.1, abs=1e-6)


def test_absolute_delay_impairment_is_zero_up_to_100_ms() -> None:
    assert r_factor_details(ta=100.0).idd == 0.0
    assert r_factor_details(ta=120.0).idd > 0.0


@pytest.mark.parametrize("ta", [200.0, 400.0])
def test_idd_matches_a_hand_evaluation_of_the_g107_formula(ta: float) -> None:
    x = math.log10(ta / 100.0) / math.log10(2.0)
    expected = 25.0 * ((1 + x**6) ** (1 / 6) - 3 * (1 + (x / 3) ** 6) ** (1 / 6) + 2)
    assert r_factor_details(ta=ta).idd == pytest.approx(expected)
    # X = 1 -> 3.04; X = 2 -> 24.07 (worked by hand).
    assert r_factor_details(ta=ta).idd == pytest.approx({200.0: 3.04, 400.0: 24.07}[ta], abs=0.01)


@pytest.mark.parametrize("ta", [150.0, 200.0, 250.0, 300.0])
def test_delay_impairment_tracks_the_published_cole_rosenbluth_fit(ta: float) -> None:
    # Cole & Rosenbluth (2001), "Voice over IP performance monitoring": a fit of
    # the G.107 curve for default parameters, Id ~= 0.024 d + 0.11 (d - 177.3) H(d - 177.3).
    fit = 0.024 * ta + 0.11 * max(0.0, ta - 177.3)
    drop = r_factor() - r_factor(ta=ta)
    assert drop == pytest.approx(fit, abs=1.0)


def test_rating_falls_monotonically_with_delay() -> None:
    ratings = [r_factor(ta=float(ta)) for ta in range(0, 801, 50)]
    assert all(a > b for a, b in zip(ratings, ratings[1:], strict=False))


def test_mos_mapping_follows_g107_annex_b() -> None:
    assert mos_from_r(-5.0) == 1.0
    assert mos_from_r(0.0) == 1.0
    assert mos_from_r(100.0) == 4.5
    assert mos_from_r(120.0) == 4.5
    # 1 + 0.035*50 + 50*(50-60)*(100-50)*7e-6 = 2.575
    assert mos_from_r(50.0) == pytest.approx(2.575)
    assert mos_from_r(80.0) == pytest.approx(1 + 2.8 + 80 * 20 * 20 * 7e-6)


def test_burst_ratio_is_one_for_random_loss_and_grows_with_burstiness() -> None:
    assert burst_ratio(0.05, 0.95) == pytest.approx(1.0)
    assert burst_ratio(0.0, 0.0) == 1.0
    assert burst_ratio(0.02, 0.25) == pytest.approx(1 / 0.27)


def test_one_way_delay_adds_network_buffer_packetization_and_lookahead() -> None:
    g729 = CODECS["G729"]
    assert one_way_delay_ms(
        rtt_ms=100.0, jitter_buffer_ms=60.0, codec=g729, packet_ms=20.0
    ) == pytest.approx(50 + 60 + 20 + 5)
    assert one_way_delay_ms(
        rtt_ms=None, jitter_buffer_ms=40.0, codec=CODECS["PCMU"], packet_ms=20.0
    ) == pytest.approx(60.0)


def test_unknown_codec_and_bad_inputs_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="OPUS"):
        codec_impairment("OPUS")
    with pytest.raises(ValueError, match="Ppl"):
        r_factor(ppl=150.0)
    with pytest.raises(ValueError, match="BurstR"):
        r_factor(ppl=1.0, burst_r=0.0)
    with pytest.raises(ValueError, match="Ta"):
        r_factor(ta=-1.0)
    assert codec_impairment("pcma").ie == 0.0
