"""Compare the ACD core with Erlang C in a long virtual-time simulation.

Usage: .venv/bin/python bench/acd_sim.py [calls] [seed]
Prints simulated vs. theoretical service level and average speed of answer
for 10 agents, AHT 180 s, 8 Erlang (M/M/N, no abandonment, no wrap-up).
"""

from __future__ import annotations

import sys
import time

from acd.erlang import average_speed_of_answer, erlang_c, service_level
from acd.simulate import simulate_mmn


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    agents, aht, load, threshold = 10, 180.0, 8.0, 20.0
    started = time.perf_counter()
    result = simulate_mmn(agents=agents, aht=aht, load=load, calls=calls, seed=seed)
    elapsed = time.perf_counter() - started
    waited = sum(1 for w in result.waits if w > 0) / len(result.waits)
    asa = sum(result.waits) / len(result.waits)
    print(f"calls={calls} seed={seed} wall={elapsed:.1f}s ({1e6 * elapsed / calls:.0f} us/call)")
    print(f"P(wait>0):     sim {waited:.4f}  Erlang C {erlang_c(load, agents):.4f}")
    print(
        f"SL({threshold:.0f}s):       sim {result.share_answered_within(threshold):.4f}  "
        f"Erlang C {service_level(load, agents, threshold, aht):.4f}"
    )
    print(
        f"ASA:           sim {asa:.1f}s  Erlang C {average_speed_of_answer(load, agents, aht):.1f}s"
    )


if __name__ == "__main__":
    main()
