"""The two papers' experiments, composed from the training core, the analyses and the cache.

- `paper_a/`: Paper A (spine MRI reports): model families and reference rows, representations, CKA and gradient
  records, the pipeline on whole notes.
- `wu2020/`: Paper B (Wu, Zhang & Re 2020): `theory` and `transfer` (the linear/ReLU model), `sentiment_data`
  and `sentiment` (the sentiment setting), `glue_alignment` (Alg. 1 on GLUE), `reweighting` (Alg. 2).
- `selection`: model selection on dev, one rule for every notebook.
"""
from .selection import best_on_dev

__all__ = ["best_on_dev"]
