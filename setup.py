"""Build of the one compiled module; everything else is declared in pyproject.toml.

``media._rtpstats_core`` is the per-packet part of ``media.rtpstats.ReceiveStats`` (issue 7:
the voice-quality statistics must stay below 2 % of a media thread at 1,000 streams). It is
optional: without a C compiler the install goes on and Vaxel uses the pure Python twin,
which gives the same figures (CI requires the compiled one: tests/media/test_rtpstats_core.py).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "media._rtpstats_core",
            sources=["media/_rtpstats_core.c"],
            # Bit-equal floats with the Python path: no fused multiply-add contraction.
            extra_compile_args=["-O2", "-ffp-contract=off"],
            optional=True,
        )
    ]
)
