"""Re-exports that import their module on first use (PEP 562), so `import mtlcore` and the command line's
`--help` do not wait for torch, pandas and scipy. `exports` maps a public name to "module:attribute" (relative
to the package); `from mtlcore import TrainConfig` and `mtlcore.TrainConfig` work as with eager imports."""
from __future__ import annotations

import importlib
import importlib.util
from typing import Callable


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """(`__getattr__`, `__dir__`) for package `package` re-exporting `exports`."""
    module_globals = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> object:
        if name not in exports:   # a subpackage or module (`mtlcore.tasks` after `import mtlcore`), as before
            if importlib.util.find_spec(f"{package}.{name}") is None:
                raise AttributeError(f"module {package!r} has no attribute {name!r}")
            return importlib.import_module(f"{package}.{name}")
        module, _, attribute = exports[name].partition(":")
        value = getattr(importlib.import_module(module, package), attribute or name)
        module_globals[name] = value   # later lookups do not come here again
        return value

    def __dir__() -> list[str]:
        return sorted(set(module_globals) | set(exports))

    return __getattr__, __dir__
