"""The progress bar every long loop uses: `from mtlcore.progress import tqdm`.

tqdm's notebook widget where it can work (a Jupyter kernel with ipywidgets installed), else its text bar.
`tqdm.auto` alone warns "IProgress not found" in a kernel without ipywidgets, and a widget in a notebook that
papermill executes is saved at its first state (0%): the pipeline sets `MTLCORE_PROGRESS=text`, so executed
notebooks keep the text bar's final line (and their log shows it).
"""
from __future__ import annotations

import importlib.util
import os


def _bar_class():
    if os.environ.get("MTLCORE_PROGRESS") == "text" or importlib.util.find_spec("ipywidgets") is None:
        from tqdm.std import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm


tqdm = _bar_class()

__all__ = ["tqdm"]
