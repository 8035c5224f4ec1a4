import warnings

import numpy as np
import pytest

from media import g711

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

ALL_SAMPLES = np.arange(65536, dtype=np.uint16).view(np.int16)
ALL_BYTES = bytes(range(256))


@pytest.mark.parametrize(("codec", "ref"), [("PCMU", audioop.lin2ulaw), ("PCMA", audioop.lin2alaw)])
def test_encode_matches_reference_for_every_16_bit_input(codec, ref):
    assert g711.encode(ALL_SAMPLES, codec) == ref(ALL_SAMPLES.tobytes(), 2)


@pytest.mark.parametrize(("codec", "ref"), [("PCMU", audioop.ulaw2lin), ("PCMA", audioop.alaw2lin)])
def test_decode_matches_reference_for_every_byte(codec, ref):
    assert g711.decode(ALL_BYTES, codec).tobytes() == ref(ALL_BYTES, 2)


def test_transcode_table_equals_decode_then_encode():
    for src, dst in (("PCMU", "PCMA"), ("PCMA", "PCMU")):
        direct = ALL_BYTES.translate(g711.transcode_table(src, dst))
        assert direct == g711.encode(g711.decode(ALL_BYTES, src), dst)


def test_silence_frame_decodes_to_the_smallest_level():
    # A-law has no zero code: its silence is the smallest step (+8).
    for codec in g711.CODECS:
        assert np.abs(g711.decode(g711.silence_frame(codec), codec)).max() <= 8


def test_unknown_codec_is_refused_by_name():
    with pytest.raises(ValueError, match="G722"):
        g711.encode(np.zeros(4, dtype=np.int16), "G722")
