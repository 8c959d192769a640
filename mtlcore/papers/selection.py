"""Model selection on a dev set, one rule for every notebook."""
from __future__ import annotations

import math
from typing import Hashable, Mapping


def best_on_dev(scores: Mapping[Hashable, float]):
    """The key with the highest dev score (NaN never wins); ties go to the smallest key (the smaller model, rank
    or size), so the choice does not depend on the order the candidates were tried in."""
    valid = {k: v for k, v in scores.items() if v is not None and not math.isnan(v)}
    if not valid:
        raise ValueError(f"best_on_dev: no finite dev score among {dict(scores)}")
    best = max(valid.values())
    return min(k for k, v in valid.items() if v == best)
