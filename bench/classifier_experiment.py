"""Experiment for issue #16's next design: would a trained classifier catch what the phrases miss?

    pip install scikit-learn==1.9.1 && python bench/classifier_experiment.py

Trains a character n-gram logistic regression (scikit-learn) on the corpus parts the phrases were tuned
on, plus ordinary benign texts (answers and back-spasm sentences from the conversation tests and
tests/engine/test_redflags.py), and judges it on the newest held-out part, which neither saw. Prints, per
threshold: how many of the phrase detector's misses it flags, whether it names the right red flag, and
how many mimics and ordinary texts it would flag on their own. Nothing here is used by the service.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from service.engine.loader import load_flow  # noqa: E402
from service.engine.redflags import detect  # noqa: E402
from service.engine.text import normalize  # noqa: E402
from service.flowtools.case_files import case_files, load_case_file  # noqa: E402
from service.flowtools.corpus import PARTS, TUNED_PARTS, load_part, play  # noqa: E402

BENIGN = "benign"


def ordinary_texts(flow) -> list[str]:  # type: ignore[no-untyped-def]
    """What patients send that states no red flag: every step of the conversation tests that detects none."""
    texts = set()
    for path in case_files(ROOT / "tests" / "conversations"):
        for case in load_case_file(path).cases:
            for step in case.steps:
                if step.send and not detect(flow, step.send, likely=True):
                    texts.add(step.send)
    return sorted(texts)


def main() -> None:
    flow = load_flow(ROOT / "flows" / "back_spasm.yaml").flow
    corpus = ROOT / "tests" / "corpus"
    train = [i for part in TUNED_PARTS for i in load_part(corpus, part)]
    held_out = load_part(corpus, PARTS[-1])
    ordinary = ordinary_texts(flow)
    half = len(ordinary) // 2
    texts = [normalize(i.text) for i in train] + [normalize(t) for t in ordinary[:half]]
    labels = [i.flag or BENIGN for i in train] + [BENIGN] * half
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True)
    features = vectorizer.fit_transform(texts)
    # Two models: is it an emergency at all (binary, so "benign" is not split across 24 classes), and which.
    binary = LogisticRegression(C=4, max_iter=3000, class_weight="balanced").fit(
        features, [label != BENIGN for label in labels])
    which = LogisticRegression(C=4, max_iter=3000).fit(
        features[[i for i, label in enumerate(labels) if label != BENIGN]], [x for x in labels if x != BENIGN])

    def risk(text: str) -> tuple[float, str]:
        row = vectorizer.transform([normalize(text)])
        return binary.predict_proba(row)[0][1], which.predict(row)[0]

    played = [play(flow, item) for item in held_out]
    missed = [p for p in played if p.item.flag and not p.caught]
    mimics = [p for p in played if not p.item.flag and not (p.level and p.level.disposition == "emergency")]
    unseen_ordinary = ordinary[half:]
    print(f"trained on {len(train)} corpus items + {half} ordinary texts; judged on {PARTS[-1]}: "
          f"{len(missed)} phrase misses, {len(mimics)} mimics the phrases leave alone, "
          f"{len(unseen_ordinary)} unseen ordinary texts")
    for threshold in (0.5, 0.6, 0.7, 0.8):
        flagged = [(p, risk(p.item.text)) for p in missed]
        caught = [(p, r) for p, r in flagged if r[0] >= threshold]
        right = sum(1 for p, r in caught if r[1] == p.item.flag)
        false_mimics = sum(1 for p in mimics if risk(p.item.text)[0] >= threshold)
        false_ordinary = sum(1 for t in unseen_ordinary if risk(t)[0] >= threshold)
        print(f"threshold {threshold}: flags {len(caught)}/{len(missed)} phrase misses ({right} with the right flag); "
              f"would also flag {false_mimics}/{len(mimics)} mimics and {false_ordinary}/{len(unseen_ordinary)} "
              f"ordinary texts")


if __name__ == "__main__":
    main()
