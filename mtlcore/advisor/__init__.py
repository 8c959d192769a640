"""Advice for users' own task sets, built on the papers' machinery.

- `affinity`: which tasks can share one model, predicted from short probes (`python -m mtlcore affinity`).
"""
