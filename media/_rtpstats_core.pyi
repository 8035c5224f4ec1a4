# Types of the compiled module built from media/_rtpstats_core.c (see setup.py).

LOSS_DECISION_LAG: int

class PacketCore:
    _ext_max: int
    _vssrc: int | None
    _rate: int
    _received: int
    _max_ts: int
    _base_ts: int
    _pkt: int
    _tlf: int
    _transit: float
    _jitter: float
    _jitter_max: float
    _anchor: float
    _inv_rate: float
    _prev_lost: bool
    @property
    def _ring(self) -> bytearray: ...
    def on_packet(
        self, seq: int, rtp_timestamp: int, arrival: float, ssrc: int, clock_rate: int = 8000
    ) -> bool: ...
