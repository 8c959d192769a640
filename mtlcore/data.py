"""Compatibility alias: the data layer now lives in the subpackage `mtlcore.tasks`.

`from mtlcore.data import load_task` (and every other name documented here before) keeps working.
"""
from .tasks import *  # noqa: F401,F403
from .tasks import __all__  # noqa: F401
