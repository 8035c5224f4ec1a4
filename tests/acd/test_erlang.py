"""Erlang B/C formulas against known values and their defining relations."""

from __future__ import annotations

import math

import pytest

from acd.erlang import average_speed_of_answer, erlang_b, erlang_c, service_level


def test_erlang_c_matches_closed_form_for_small_cases() -> None:
    # N=1: M/M/1 waits with probability rho
    assert erlang_c(0.6, 1) == pytest.approx(0.6)
    # N=2, A=1: C = (A^2/2! * 2/(2-1)) / (1 + A + A^2/2! * 2/(2-1)) = 1/3
    assert erlang_c(1.0, 2) == pytest.approx(1 / 3)


def test_erlang_c_equals_direct_summation() -> None:
    load, n = 8.0, 10
    top = load**n / math.factorial(n) * n / (n - load)
    bottom = sum(load**k / math.factorial(k) for k in range(n)) + top
    assert erlang_c(load, n) == pytest.approx(top / bottom)
    assert erlang_b(load, n) == pytest.approx(
        (load**n / math.factorial(n)) / sum(load**k / math.factorial(k) for k in range(n + 1))
    )


def test_service_level_formula_and_limits() -> None:
    c = erlang_c(8, 10)
    assert service_level(8, 10, 20, 180) == pytest.approx(1 - c * math.exp(-2 * 20 / 180))
    assert service_level(8, 10, 0, 180) == pytest.approx(1 - c)
    assert service_level(8, 10, 1e6, 180) == pytest.approx(1.0)
    assert service_level(10, 10, 20, 180) == 0.0
    assert average_speed_of_answer(8, 10, 180) == pytest.approx(c * 180 / 2)


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="agents"):
        erlang_c(1.0, 0)
    with pytest.raises(ValueError, match="load"):
        erlang_c(-1.0, 3)
