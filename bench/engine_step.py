"""CPU per text of the pure engine (no web, no database): python bench/engine_step.py [--n 3000].

Plays the same mixed texts (answers, red flags in words, typos, Spanish) at a screening question and
prints milliseconds per step and the process's peak RSS (the red-flag word lists included). Run it on
two checkouts one after the other to compare them.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.engine.loader import load_flow  # noqa: E402
from service.engine.redflags import detect  # noqa: E402
from service.engine.state import ACTIVE, State  # noqa: E402
from service.engine.step import step  # noqa: E402

TEXTS = ["no", "yes", "hi my back went into spasm lifting a box", "nope", "I can't feel my legs",
         "my bottom has been numb since yesterday, i didnt want to say", "sorry idk", "estoy bomitando"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=3000)
    args = parser.parse_args()
    flow = load_flow(Path(__file__).resolve().parents[1] / "flows" / "back_spasm.yaml").flow
    detect(flow, "warm up")  # compiles the patterns and loads the word lists once, as a worker does
    start = time.process_time()
    for i in range(args.n):
        step(flow, State(node="q_fever", status=ACTIVE), TEXTS[i % len(TEXTS)], {})
    per_text = (time.process_time() - start) / args.n * 1000
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"engine step: {per_text:.3f} ms CPU per text over {args.n} texts; peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
