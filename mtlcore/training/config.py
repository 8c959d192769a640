"""Experiment configs: dataclasses whose defaults are the schema, round-tripping to YAML.

The same YAML is what the CLI reads (`--config`), what papermill injects into a notebook and what a
run folder records, so all three run the same thing. Unknown fields are errors, never ignored, and
every value is checked against its field's type when the config is built: numbers written as YAML
strings (`lr: 1e-3` reads as the string '1e-3') are converted, anything else of the wrong type is
refused with the field's name, before any file or folder is touched.
"""
from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

import yaml

from .._io import YamlTooLarge, atomic_write_text, load_yaml

C = TypeVar("C", bound="YamlConfig")
CLASS_WEIGHTS = ("none", "balanced", "inv_sqrt")
HEAD_INITS = ("random", "probe")   # see mtlcore.training.head_init


class ConfigError(ValueError):
    """An invalid config value or an unknown field; the message names the field (and file)."""


class YamlConfig:
    """Mixin: `to_dict`, `to_yaml`, `from_dict` (strict), `from_yaml`, `replace`."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[arg-type]

    # fields holding file paths: written relative to the YAML file's folder and read back against it, so a
    # folder moved together with the files it names (a run and its task file) still reads
    PATH_FIELDS = ()   # (no annotation: a class attribute, not a dataclass field)

    def to_yaml(self, path: str | Path | None = None) -> str:
        data = self.to_dict()
        if path is not None:
            base = Path(path).resolve().parent
            for name in self.PATH_FIELDS:
                data[name] = [os.path.relpath(p, base) if Path(p).is_absolute() else p for p in data[name]]
        text = yaml.safe_dump(data, sort_keys=False)
        if path is not None:
            atomic_write_text(path, text)
        return text

    @classmethod
    def from_dict(cls: type[C], data: dict[str, Any], source: str = "config") -> C:
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a mapping of field: value, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - known)
        if unknown:
            close = {u: difflib.get_close_matches(u, known, n=1) for u in unknown}
            hint = "".join(f"; did you mean {c[0]!r} for {u!r}?" for u, c in close.items() if c)
            raise ConfigError(f"{source}: unknown field(s) {unknown} for {cls.__name__}{hint}; known fields: "
                              f"{sorted(known)}")
        try:
            return cls(**data)
        except TypeError as e:
            raise ConfigError(f"{source}: {e}") from None
        except ConfigError as e:
            raise ConfigError(f"{source}: {e}") from None

    @classmethod
    def from_yaml(cls: type[C], path: str | Path) -> C:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        try:
            data = load_yaml(path.read_text(), path) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML: {e}") from None
        except YamlTooLarge as e:
            raise ConfigError(str(e)) from None
        if isinstance(data, dict):   # relative paths are relative to this file's folder
            cls._resolve_paths(data, path.resolve().parent)
        return cls.from_dict(data, source=str(path))

    @classmethod
    def _resolve_paths(cls, data: dict, base: Path) -> None:
        """Make the relative paths of `data` (read from a YAML file in `base`) absolute, in place."""
        for name in cls.PATH_FIELDS:
            if isinstance(data.get(name), list):
                data[name] = [_against(base, p) for p in data[name]]

    def replace(self: C, **changes: Any) -> C:
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


def _against(base: Path, entry: Any) -> Any:
    """A path string relative to `base` (a config file's folder) made absolute; absolute ones and non-strings are
    returned as they are. Config files written before 2026-12-03 meant the working directory: a path found only
    there is still taken from there, with a warning naming the rule."""
    if not isinstance(entry, str):
        return entry
    path = Path(entry).expanduser()
    if not path.is_absolute() and not (base / path).exists() and path.exists():
        from .._io import warn

        warn(f"{entry}: found relative to the working directory, not to the config file's folder {base}; paths in "
             "a config file are relative to the file (write the path so, or absolute)", FutureWarning)
        return str(path.resolve())
    return str(base / path)


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise ConfigError(msg)


def _number(name: str, value: Any, kind: type) -> int | float:
    """`value` as an int or a finite-or-infinite float, converting numeric strings; bools are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigError(f"{name}: expected {'an integer' if kind is int else 'a number'}, got {value!r}")
    try:
        x = float(value) if isinstance(value, str) else value
    except ValueError:
        raise ConfigError(f"{name}: expected {'an integer' if kind is int else 'a number'}, got {value!r}") from None
    if kind is int:
        if isinstance(x, float) and not (math.isfinite(x) and x.is_integer()):
            raise ConfigError(f"{name}: expected an integer, got {value!r}")
        return int(x)
    return float(x)


def coerce_fields(config: Any) -> None:
    """Check (and convert where lossless) every field of a dataclass config against its annotation.

    Understands the annotations used here: str, bool, int, float, `X | None`, list[str], list[int] and
    dict[str, float]. Raises ConfigError naming the field.
    """
    for f in fields(config):
        value, kind = getattr(config, f.name), str(f.type).replace(" ", "")
        optional = kind.endswith("|None")
        kind = kind.removesuffix("|None")
        if value is None:
            _check(optional, f"{f.name}: a value is required, got null")
            continue
        if kind == "str":
            _check(isinstance(value, str), f"{f.name}: expected a string, got {value!r}")
        elif kind == "bool":
            _check(isinstance(value, bool), f"{f.name}: expected true or false, got {value!r}")
        elif kind in ("int", "float"):
            setattr(config, f.name, _number(f.name, value, int if kind == "int" else float))
        elif kind in ("list[str]", "list[int]"):
            _check(isinstance(value, (list, tuple)), f"{f.name}: expected a list, got {value!r}")
            if kind == "list[int]":
                setattr(config, f.name, [_number(f.name, v, int) for v in value])
            else:
                _check(all(isinstance(v, str) for v in value), f"{f.name}: expected a list of strings, got {value!r}")
                setattr(config, f.name, list(value))
        elif kind == "dict[str,float]":
            _check(isinstance(value, dict) and all(isinstance(k, str) for k in value),
                   f"{f.name}: expected a mapping of name: number, got {value!r}")
            setattr(config, f.name, {k: _number(f"{f.name}[{k!r}]", v, float) for k, v in value.items()})


@dataclass
class TrainConfig(YamlConfig):
    """One training run: STL (one model per task) or MTL (one shared encoder, a head per task).

    Sizes are in examples; `max_train`/`max_eval` take a seeded subset (None = all). Sampling picks the
    task of each step with probability proportional to n_i^(1/temperature): `proportional`
    (temperature 1, every batch once per epoch), `uniform`, or `temperature`.
    """

    tasks: list[str] = field(default_factory=lambda: ["glue/rte", "glue/mrpc"])  # names (`mtlcore tasks`) or task files
    task_files: list[str] = field(default_factory=list)  # users' task files (registered when the config is built)
    PATH_FIELDS = ("task_files",)
    mode: str = "mtl"                 # mtl | stl
    encoder: str = "minilm-l6"        # minilm-l6 (bundled), tiny-bert (random), a Hugging Face name or a folder
    pooling: str = "mean"             # cls | mean
    max_train: int | None = None      # training examples per task: a seeded subset (None: all)
    max_eval: int | None = None       # dev and test examples per task (None: all)
    max_length: int = 128             # tokens per text; longer texts are cut
    batch_size: int = 16              # the global batch: split over the processes of a torchrun job
    batch_tokens: int | None = None   # batches sized by tokens: at most this many padded tokens each, global under torchrun (None: batch_size examples)
    grad_accumulation: int = 1        # batches whose gradients are summed into one optimiser step
    eval_batch_size: int = 64         # examples per evaluation batch
    epochs: int = 3                   # passes over the training examples; the best epoch on dev is kept
    lr: float = 5e-5                  # the encoder's learning rate
    head_lr: float | None = None      # the task heads' learning rate (None: lr); fresh heads need far more than lr
    adapter_lr: float | None = None   # adapters and the LayerNorms they train (None: lr; unused without adapter)
    weight_decay: float = 0.01        # AdamW weight decay
    warmup_ratio: float = 0.1         # share of the steps with a linear lr warm-up (then linear decay to 0)
    grad_clip: float = 1.0            # gradient norm clipping (0: off)
    dropout: float = 0.1              # dropout before each head
    sampling: str = "proportional"    # proportional | uniform | temperature
    temperature: float = 2.0          # T of sampling temperature: task i drawn with p ~ n_i^(1/T)
    weighting: str = "equal"          # how task losses are summed: equal | fixed (by task_weights)
    task_weights: dict[str, float] | None = None  # {task: weight} for weighting fixed
    freeze_encoder: bool = False      # train only heads (+ alignment R_i): Alg. 1's schedule
    alignment: bool = False           # per-task covariance alignment R_i (Wu et al. 2020, Alg. 1)
    alignment_lr: float | None = None # learning rate of the R_i (None: head_lr, else lr)
    class_weights: str = "none"       # classification losses: none | balanced | inv_sqrt (from training labels)
    head_init: str = "random"         # random | probe: classification heads start as a linear probe (LP-FT)
    gradient_cosine_every: int = 0    # record task-gradient cosines every N steps (0 = off; MTL only)
    precision: str = "fp32"           # fp32 | bf16: bfloat16 autocast of the training forward pass (weights stay fp32)
    compile: bool = False             # torch.compile the encoder (inductor); if compiling fails, eager with a warning
    shared_inputs: bool = True        # MTL: tasks of one input group share one encoder pass per step
    adapter: str | None = None        # "bottleneck": frozen encoder + Houlsby adapters (mtlcore.training.adapters)
    adapter_size: int = 64            # adapter bottleneck width
    seed: int = 0                     # same seed, same numbers (data subsets, init, batches, dropout)
    device: str = "auto"              # auto | cpu | cuda | cuda:N | mps
    save_checkpoint: bool = True      # keep the dev-selected model in <out>/checkpoint
    progress: bool = True             # progress bars and a dev-score line per epoch on stderr

    def __post_init__(self) -> None:
        if isinstance(self.tasks, str):
            self.tasks = [t.strip() for t in self.tasks.split(",") if t.strip()]
        coerce_fields(self)
        self._expand_task_files()
        _check(len(self.tasks) > 0, "tasks: at least one task is needed")
        _check(len(set(self.tasks)) == len(self.tasks), f"tasks: duplicates in {self.tasks}")
        from ..tasks.registry import task_key

        keys: dict[str, str] = {}
        for t in self.tasks:   # heads and STL folders are named by task_key: two tasks must not share one
            other = keys.setdefault(task_key(t), t)
            _check(other == t, f"tasks: {other!r} and {t!r} map to the same head and folder name "
                               f"{task_key(t)!r} ('/' and '.' are replaced); rename one of them")
        _check(isinstance(self.seed, int) and not isinstance(self.seed, bool) and 0 <= self.seed < 2**32,
               f"seed must be an integer in [0, 2**32), got {self.seed!r}")
        _check(self.mode in ("mtl", "stl"), f"mode must be 'mtl' or 'stl', got {self.mode!r}")
        _check(self.pooling in ("cls", "mean"), f"pooling must be 'cls' or 'mean', got {self.pooling!r}")
        for name in ("max_train", "max_eval", "batch_tokens"):
            v = getattr(self, name)
            _check(v is None or (isinstance(v, int) and v >= 1), f"{name} must be a positive integer or None, got {v!r}")
        _check(self.adapter in (None, "bottleneck"), f"adapter must be null or 'bottleneck', got {self.adapter!r}")
        _check(not (self.adapter and self.freeze_encoder),
               "adapter and freeze_encoder: adapters already freeze the encoder, and freeze_encoder would freeze "
               "the adapters too; use one of them")
        for name in ("max_length", "batch_size", "grad_accumulation", "eval_batch_size", "epochs", "adapter_size"):
            v = getattr(self, name)
            _check(isinstance(v, int) and v >= 1, f"{name} must be a positive integer, got {v!r}")
        for name in ("lr", "head_lr", "adapter_lr", "alignment_lr", "temperature"):
            v = getattr(self, name)
            _check(v is None or (math.isfinite(v) and v > 0), f"{name} must be a finite number > 0, got {v}")
        for name in ("weight_decay", "grad_clip"):
            v = getattr(self, name)
            _check(math.isfinite(v) and v >= 0, f"{name} must be a finite number >= 0, got {v}")
        _check(0 <= self.warmup_ratio < 1, f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        _check(0 <= self.dropout < 1, f"dropout must be in [0, 1), got {self.dropout}")
        _check(self.class_weights in CLASS_WEIGHTS,
               f"class_weights must be one of {', '.join(CLASS_WEIGHTS)}, got {self.class_weights!r}")
        _check(self.head_init in HEAD_INITS,
               f"head_init must be {' or '.join(map(repr, HEAD_INITS))}, got {self.head_init!r}")
        _check(not (self.head_init == "probe" and self.freeze_encoder),
               "head_init probe with freeze_encoder: the heads would start at the probe of the frozen encoder and "
               "the run would only refit it; use head_init random")
        _check(not (self.batch_tokens and self.sampling != "proportional"),
               f"batch_tokens with sampling {self.sampling!r}: uniform and temperature sampling weigh tasks by their "
               "number of batches, which token-sized batches tie to text length; use sampling proportional")
        _check(not (self.compile and self.alignment),
               "compile with alignment: the per-task alignment hook on the encoder's embeddings changes per call, "
               "which a compiled encoder does not guard; use one of them")
        _check(self.precision in ("fp32", "bf16"), f"precision must be 'fp32' or 'bf16', got {self.precision!r}")
        _check(self.sampling in ("proportional", "uniform", "temperature"),
               f"sampling must be proportional, uniform or temperature, got {self.sampling!r}")
        _check(isinstance(self.gradient_cosine_every, int) and self.gradient_cosine_every >= 0,
               f"gradient_cosine_every must be an integer >= 0, got {self.gradient_cosine_every!r}")
        from .weighting import WEIGHTINGS

        _check(self.weighting in WEIGHTINGS, f"weighting must be one of {sorted(WEIGHTINGS)}, got {self.weighting!r}")
        uses = getattr(WEIGHTINGS[self.weighting], "uses_task_weights", False)
        if self.task_weights is not None and not uses:
            raise ConfigError(f"task_weights are given but weighting {self.weighting!r} does not use them; "
                              f"set weighting: fixed (or drop task_weights)")
        _check(not uses or self.task_weights is not None,
               f"weighting {self.weighting!r} needs task_weights: {{task: weight}} for every task")
        if self.task_weights is not None:
            w = self.task_weights
            _check(all(math.isfinite(v) and v >= 0 for v in w.values()),
                   f"task_weights must be finite and >= 0, got {w}")
            _check(any(v > 0 for v in w.values()), f"task_weights must not all be zero, got {w}")
            missing, extra = sorted(set(self.tasks) - set(w)), sorted(set(w) - set(self.tasks))
            _check(not missing and not extra,
                   f"task_weights must name exactly the tasks; missing {missing}, not in tasks {extra}")
        _check(self.device == "auto" or _device_name(self.device),
               f"device must be auto, cpu, cuda, cuda:N or mps, got {self.device!r}")

    @classmethod
    def _resolve_paths(cls, data: dict, base: Path) -> None:
        """`task_files` and the task-file entries of `tasks` in a YAML config are relative to its folder."""
        super()._resolve_paths(data, base)
        tasks = data.get("tasks")
        if isinstance(tasks, list):
            data["tasks"] = [_against(base, t) if isinstance(t, str) and t.lower().endswith((".yaml", ".yml"))
                             else t for t in tasks]

    def _expand_task_files(self) -> None:
        """A `tasks` entry that is a YAML task file (see `mtlcore.tasks.user`) becomes the tasks it declares;
        its absolute path is kept in `task_files`, so a saved config registers them again when read."""
        files = [str(Path(f).expanduser().resolve()) for f in self.task_files]
        tasks: list[str] = []
        for entry in self.tasks:
            if entry.lower().endswith((".yaml", ".yml")):
                files.append(str(Path(entry).expanduser().resolve()))
                tasks += _register_task_file(files[-1])
            else:
                tasks.append(entry)
        for f in files:
            _register_task_file(f)
        self.tasks, self.task_files = list(dict.fromkeys(tasks)), list(dict.fromkeys(files))

    def for_task(self, task: str) -> "TrainConfig":
        """The STL config of one task (its task weight, if any, is dropped: one task has nothing to weigh)."""
        weights = None if self.task_weights is None else {task: self.task_weights[task]}
        return self.replace(tasks=[task], mode="stl", task_weights=weights)


def _register_task_file(path: str) -> list[str]:
    """Register a users' task file once per content (path, size, mtime); returns its task names."""
    import os

    try:
        st = os.stat(path)
    except OSError:
        raise ConfigError(f"tasks: task file {path} not found") from None
    return list(_registered(path, st.st_size, st.st_mtime_ns))


@functools.lru_cache(maxsize=32)
def _registered(path: str, size: int, mtime_ns: int) -> tuple[str, ...]:
    from ..tasks.user import register_task_file

    return tuple(register_task_file(path))


def _device_name(name: str) -> bool:
    import re

    return re.fullmatch(r"cpu|mps|cuda(:\d+)?", name) is not None



@dataclass
class Profile(YamlConfig):
    """A scale at which the notebooks run (`notebooks/profiles/<name>.yaml`).

    train: TrainConfig fields applied by every training notebook (validated against TrainConfig);
    seeds: the seeds notebooks average over; notebooks: per-notebook parameters, keyed by the
    notebook's path under notebooks/ without `.py` (a `train` entry there is merged over the profile's).
    """

    name: str = "cpu"
    description: str = ""
    seeds: list[int] = field(default_factory=lambda: [0])
    train: dict[str, Any] = field(default_factory=dict)
    notebooks: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        coerce_fields(self)
        _check(isinstance(self.seeds, list) and len(self.seeds) > 0 and all(isinstance(s, int) for s in self.seeds),
               f"seeds must be a non-empty list of integers, got {self.seeds!r}")
        _check(isinstance(self.notebooks, dict), "notebooks must be a mapping of notebook name: parameters")
        for name, params in [("profile", self.train)] + [(n, p.get("train", {})) for n, p in self.notebooks.items()
                                                         if isinstance(p, dict)]:
            TrainConfig.from_dict(dict(params), source=f"train settings of {name}")

    def parameters(self, notebook: str, declared: set[str]) -> dict[str, Any]:
        """What papermill injects into `notebook`, given the parameters it declares."""
        entry = dict(self.notebooks.get(notebook) or {})
        params: dict[str, Any] = {"profile": self.name}
        if "seeds" in declared:
            params["seeds"] = list(self.seeds)
        if "train" in declared:
            params["train"] = {**self.train, **entry.pop("train", {})}
        params.update(entry)
        return params
