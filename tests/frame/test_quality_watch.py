"""The per-call quality watch in virtual time: warning/all-clear events and the call record."""

from __future__ import annotations

import json
import random

import pytest

from media import EndpointHints
from media.quality_watch import RECOVERED, WARNING, CallQualityWatch, quality_codec
from media.rtpstats import ReceiveStats, RemoteStats


def feed(
    watch: CallQualityWatch,
    legs: dict[str, ReceiveStats],
    start: float,
    seconds: float,
    loss: dict[str, float] | None = None,
    seed: int = 1,
) -> list[dict]:
    """50 packets/s on every leg from ``start``; polls the watch after every packet time."""
    rng = random.Random(seed)
    events = []
    first = int(start / 0.02)
    for i in range(first, first + int(seconds / 0.02)):
        t = i * 0.02
        for name, stats in legs.items():
            if rng.random() >= (loss or {}).get(name, 0.0):
                stats.on_packet(i & 0xFFFF, i * 160, t + rng.uniform(0, 0.01), 7)
        events += watch.poll(t, 1_700_000_000.0 + t)
    return events


def test_g711_is_rated_as_concealed_by_default_and_the_configuration_overrides() -> None:
    assert quality_codec("PCMU", plc=None) == "PCMU-CONCEAL"
    assert quality_codec("pcma", plc=False) == "PCMA-NOPLC"
    assert quality_codec("PCMU", plc=True) == "PCMU-CONCEAL"
    assert quality_codec("PCMU", None, EndpointHints(user_agent="SIPp/3.7")) == "PCMU-NOPLC"


def test_the_caller_leg_is_rated_for_the_agent_phone_once_bridged_and_the_record_says_why() -> None:
    watch = CallQualityWatch("c7", interval=1.0)
    caller = ReceiveStats()
    watch.add_leg("caller", caller, 0.0)
    feed(watch, {"caller": caller}, 0.0, 3.0, {"caller": 0.03})
    _, quality = watch.summary()
    assert quality["legs"]["caller"]["codec"] == "PCMU-CONCEAL"
    assert quality["legs"]["caller"]["concealment"]["reason"].startswith("default")
    concealed = quality["legs"]["caller"]["mos"]
    watch.set_listener("caller", EndpointHints(user_agent="SIPp/v3.7.1"))
    mos, quality = watch.summary()
    leg = quality["legs"]["caller"]
    assert leg["codec"] == "PCMU-NOPLC" and leg["concealment"]["conceals"] is False
    assert "SIPp" in leg["concealment"]["reason"] and mos is not None and mos < concealed
    watch.set_listener("caller", EndpointHints(user_agent="Yealink SIP-T54W 96.86.0.70"))
    assert watch.summary()[1]["legs"]["caller"]["codec"] == "PCMU-CONCEAL"


def test_clean_call_raises_no_event_and_stores_high_mos() -> None:
    watch = CallQualityWatch("c1", interval=1.0)
    caller = ReceiveStats()
    watch.add_leg("caller", caller, 0.0)
    assert feed(watch, {"caller": caller}, 0.0, 10.0) == []
    mos, quality = watch.summary()
    assert mos is not None and mos > 4.3
    leg = quality["legs"]["caller"]
    assert leg["loss_pct"] == 0.0 and leg["warnings"] == 0
    assert len(leg["interval_mos"]) >= 7  # one per second once decisions start
    json.dumps(quality)  # stored as JSON on the call record


def test_loss_on_the_agent_leg_warns_naming_call_agent_leg_and_figures_then_clears() -> None:
    watch = CallQualityWatch("call-9", interval=1.0, warn_below=3.1)
    caller, agent = ReceiveStats(), ReceiveStats()
    hook: list[tuple[float, float]] = []
    watch.add_leg("caller", caller, 0.0)
    events = feed(watch, {"caller": caller}, 0.0, 2.0)
    watch.agent = "1001"
    watch.add_leg("agent", agent, 2.0, on_mos=lambda r, m: hook.append((r, m)))
    events += feed(watch, {"caller": caller, "agent": agent}, 2.0, 10.0, {"agent": 0.10})
    warnings = [e for e in events if e["type"] == WARNING]
    assert len(warnings) == 1, events
    w = warnings[0]
    assert (w["call_id"], w["agent"], w["leg"]) == ("call-9", "1001", "agent")
    assert w["mos"] < 3.1 and w["threshold"] == 3.1
    assert 4.0 < w["loss_pct"] < 20.0 and w["jitter_ms"] > 0 and w["burst_ratio"] > 0
    assert w["rtt_ms"] is None and w["at"].startswith("2023-")
    assert hook and all(m < 3.1 for _, m in hook[2:])
    # The loss stops: after the window has slid past it, one all-clear.
    events = feed(watch, {"caller": caller, "agent": agent}, 12.0, 6.0)
    assert [e["type"] for e in events] == [RECOVERED]
    assert events[0]["leg"] == "agent" and events[0]["mos"] >= 3.2
    mos, quality = watch.summary()
    assert quality["legs"]["agent"]["warnings"] == 1
    assert mos == quality["legs"]["agent"]["mos"]  # the worse leg decides the call's MOS
    assert quality["legs"]["caller"]["mos"] > mos


def test_live_view_has_the_latest_interval_per_leg_and_the_standing_warning() -> None:
    watch = CallQualityWatch("c6", interval=1.0)
    caller = ReceiveStats()
    watch.add_leg("caller", caller, 0.0)
    assert watch.live() == {}
    feed(watch, {"caller": caller}, 0.0, 6.0, {"caller": 0.2})
    live = watch.live()["caller"]
    assert live["warning"] is True and live["mos"] < 3.1 and live["loss_pct"] > 10


def test_call_ending_while_warned_clears_the_warning() -> None:
    watch = CallQualityWatch("c2", interval=1.0, agent="1002")
    caller = ReceiveStats()
    watch.add_leg("caller", caller, 0.0)
    events = feed(watch, {"caller": caller}, 0.0, 6.0, {"caller": 0.2})
    assert [e["type"] for e in events] == [WARNING]
    cleared = watch.close(1_700_000_100.0)
    assert len(cleared) == 1
    assert cleared[0]["type"] == RECOVERED and cleared[0]["call_ended"] is True
    assert watch.close(1_700_000_101.0) == []


def test_rtt_from_rtcp_appears_in_the_figures() -> None:
    watch = CallQualityWatch("c3", interval=1.0)
    caller, remote = ReceiveStats(), RemoteStats()
    remote.rtt = 0.120
    watch.add_leg("caller", caller, 0.0, remote=remote)
    feed(watch, {"caller": caller}, 0.0, 5.0)
    _, quality = watch.summary()
    assert quality["legs"]["caller"]["rtt_ms"] == pytest.approx(120.0)
    assert quality["legs"]["caller"]["r"] < 93.2


def test_far_end_reports_are_stored_with_the_leg() -> None:
    from media.rtpstats import ReportBlock, VoipMetrics, ntp_timestamp

    watch = CallQualityWatch("c5", interval=1.0)
    caller, remote, quiet = ReceiveStats(), RemoteStats(), RemoteStats()
    watch.add_leg("caller", caller, 0.0, remote=remote)
    watch.add_leg("agent", ReceiveStats(), 0.0, remote=quiet)
    remote.on_report_block(ReportBlock(1, 26, 40, 900, 160, 0, 0), ntp_timestamp(1e9), 1.0)
    remote.on_voip_metrics(VoipMetrics(1, 0.1, 0.02, 0.0, 0.1, 0, 5000, 40, 90, mos_lq=3.2), 1.0)
    feed(watch, {"caller": caller}, 0.0, 3.0)
    _, quality = watch.summary()
    far = quality["legs"]["caller"]["far_end"]
    assert far["loss_pct"] == pytest.approx(10.16) and far["cumulative_lost"] == 40
    assert far["jitter_ms"] == pytest.approx(20.0) and far["rtt_ms"] == pytest.approx(40.0)
    assert far["xr"]["mos_lq"] == pytest.approx(3.2) and far["xr"]["discard_pct"] == 2.0
    assert quality["legs"]["agent"]["far_end"] is None  # no RTCP from that peer
    json.dumps(quality)


def test_no_packets_no_mos() -> None:
    watch = CallQualityWatch("c4", interval=1.0)
    watch.add_leg("caller", ReceiveStats(), 0.0)
    assert watch.poll(5.0, 0.0) == []
    mos, quality = watch.summary()
    assert mos is None and quality["legs"]["caller"]["mos"] is None


def test_quality_settings_are_validated_naming_the_key(tmp_path) -> None:
    from config import ConfigError, parse_config
    from tests.support import demo_toml_with

    text = demo_toml_with(tmp_path)
    ok = parse_config(text.replace("[rtp]\n", "[rtp]\nmos_warning = 3.5\nmos_interval = 1\n"))
    assert (ok.rtp.mos_warning, ok.rtp.mos_interval, ok.rtp.mos_plc) == (3.5, 1.0, "auto")
    for value, parsed in (("true", True), ("false", False), ('"auto"', "auto")):
        cfg = parse_config(text.replace("[rtp]\n", f"[rtp]\nmos_plc = {value}\n"))
        assert cfg.rtp.mos_plc == parsed
    assert parse_config(text).rtp.mos_warning == 3.1  # SPEC S10's threshold by default
    for bad in ("mos_warning = 5.0", "mos_interval = 0", "mos_plc = 'maybe'"):
        with pytest.raises(ConfigError, match=f"rtp.{bad.split()[0]}"):
            parse_config(text.replace("[rtp]\n", f"[rtp]\n{bad}\n"))
