"""Running the notebooks and reporting what they found.

- `cache`: trainings and other results cached by a hash of what determines their numbers.
- `verdicts`: the PAPERS.md criteria, one function per item, and the intervals they use.
- `claims`: each notebook's verdict as JSON beside its results.
- `report`: `report.md` / `report.html` from the claims and the run summary.
- `pipeline`: papermill over every notebook of a profile (`python -m mtlcore.reporting.pipeline`).
"""
from . import verdicts
from .cache import cached_result, cached_train
from .claims import record_claim

__all__ = ["cached_result", "cached_train", "record_claim", "verdicts"]
