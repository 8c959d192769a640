"""The multi-task model: one shared encoder, one head per task.

    h_0 .. h_L = encoder(tokens)               # embeddings + each transformer layer, (B, T, H)
    z = pool(h_L)                              # CLS token or attention-masked mean, (B, H)
    logits_t = W_t dropout(z) + b_t            # task t's head: C classes, 1 score or L labels

A single-task (STL) model is the same class with one task. `forward_tasks` runs the encoder once
and feeds every named head (tasks that share their inputs, e.g. the pathologies of one report);
`predict` does the same for raw texts. Every hidden layer is available (`output_hidden_states=True`)
for representation analyses (CKA), and `save`/`load` write a folder that `transformers` can read
back (the encoder is stored with `save_pretrained`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..tasks import TaskSpec, get_task, task_key

POOLINGS = ("cls", "mean")


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, how: str) -> torch.Tensor:
    """(B, T, H) token states -> (B, H): the first ([CLS]) token, or the mean over real tokens."""
    if how == "cls":
        return hidden[:, 0]
    if how == "mean":
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp_min(1.0)
    raise ValueError(f"pooling must be one of {POOLINGS}, got {how!r}")


@dataclass
class MTLOutput:
    logits: torch.Tensor                    # (B, C) / (B,) for regression
    pooled: torch.Tensor                    # (B, H)
    hidden_states: tuple[torch.Tensor, ...] | None = None  # L+1 tensors (B, T, H)


class MultiTaskModel(nn.Module):
    """Shared encoder + a linear head per task (classification, regression or multi-label)."""

    def __init__(self, encoder: nn.Module, tasks: Sequence[TaskSpec | str], pooling: str = "mean",
                 dropout: float = 0.1, encoder_name: str = ""):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.encoder = encoder
        self.pooling = pooling
        self.encoder_name = encoder_name
        self.specs = {t.name: t for t in (get_task(t) if isinstance(t, str) else t for t in tasks)}
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.heads = nn.ModuleDict({task_key(n): nn.Linear(hidden, s.num_outputs) for n, s in self.specs.items()})
        self.alignment: nn.Module | None = None   # per-task R_i of Wu et al.'s Alg. 1, see mtlcore.training.alignment
        self.class_weights: dict[str, torch.Tensor] = {}  # {task: per-class loss weight}, set by the trainer

    @property
    def tasks(self) -> list[str]:
        return list(self.specs)

    def shared_parameters(self) -> list[tuple[str, nn.Parameter]]:
        """Named parameters of the shared encoder (what gradient-alignment analyses look at)."""
        return [(n, p) for n, p in self.encoder.named_parameters() if p.requires_grad]

    def _check(self, task: str) -> None:
        if task not in self.specs:
            raise KeyError(f"model has no head for task {task!r}; heads: {self.tasks}")

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor | None = None,
               output_hidden_states: bool = False, task: str | None = None):
        """Encoder output and pooled (B, H) representation; `task` selects its alignment R_task (if any)."""
        kwargs = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
        hook = None
        if self.alignment is not None:  # Z = X R_task on the embedding layer's output
            if task is None:
                raise ValueError("a model with per-task alignment needs the task to encode for")
            hook = self.encoder.embeddings.register_forward_hook(lambda m, i, out: self.alignment(out, task))
        try:
            out = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                               output_hidden_states=output_hidden_states, **kwargs)
        finally:
            if hook is not None:
                hook.remove()
        return out, pool(out.last_hidden_state, attention_mask, self.pooling)

    def head(self, task: str, pooled: torch.Tensor) -> torch.Tensor:
        """Task `task`'s logits from a pooled representation (its own dropout mask)."""
        logits = self.heads[task_key(task)](self.dropout(pooled))
        return logits.squeeze(-1) if self.specs[task].kind == "regression" else logits

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, task: str,
                token_type_ids: torch.Tensor | None = None, output_hidden_states: bool = False) -> MTLOutput:
        self._check(task)
        out, pooled = self.encode(input_ids, attention_mask, token_type_ids, output_hidden_states, task)
        return MTLOutput(self.head(task, pooled), pooled, out.hidden_states if output_hidden_states else None)

    def forward_tasks(self, tasks: Sequence[str], input_ids: torch.Tensor, attention_mask: torch.Tensor,
                      token_type_ids: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """{task: logits} for tasks that share these inputs, from ONE encoder pass (not with per-task alignment)."""
        for t in tasks:
            self._check(t)
        if self.alignment is not None:
            raise ValueError("forward_tasks: per-task alignment R_i changes the encoder's input per task; "
                             "encode each task separately")
        _, pooled = self.encode(input_ids, attention_mask, token_type_ids)
        return {t: self.head(t, pooled) for t in tasks}

    def _batches(self, tokenizer, texts: Sequence[str | tuple[str, ...]], batch_size: int, max_length: int, what: str):
        """(indices, padded batch on the model's device) over `texts` sorted by length (less padding)."""
        rows = [t if isinstance(t, tuple) else (t,) for t in texts]
        if any(not all(isinstance(x, str) and x.strip() for x in r) for r in rows):
            raise ValueError(f"{what}: every text must be a non-empty string (or a tuple of them)")
        enc = tokenizer(*[list(c) for c in zip(*rows)], truncation=True, max_length=max_length, padding=False)
        order = np.argsort([-len(x) for x in enc["input_ids"]], kind="stable")
        device = next(self.parameters()).device
        for start in range(0, len(rows), batch_size):
            idx = order[start:start + batch_size]
            feats = [{k: enc[k][i] for k in enc.keys()} for i in idx]
            yield idx, {k: v.to(device) for k, v in tokenizer.pad(feats, return_tensors="pt").items()}

    @torch.no_grad()
    def predict(self, tokenizer, texts: Sequence[str | tuple[str, ...]], tasks: Sequence[str] | None = None,
                batch_size: int = 64, max_length: int = 128, progress: bool = False) -> dict[str, np.ndarray]:
        """Raw head outputs for `texts` (strings or sentence pairs), every task from one encoder pass per batch.

        Returns {task: array}: (n, C) logits for classification, (n,) scores for regression, (n, L) logits for
        multi-label. Texts are sorted by length into batches (less padding) and returned in input order."""
        tasks = list(tasks or self.tasks)
        was = self.training
        self.eval()
        out: dict[str, np.ndarray] = {}
        from ..progress import tqdm

        try:
            batches = self._batches(tokenizer, texts, batch_size, max_length, "predict")
            for idx, batch in tqdm(batches, total=-(-len(texts) // batch_size), desc="predict", disable=not progress,
                                   leave=False):
                logits = self.forward_tasks(tasks, **batch) if self.alignment is None else {
                    t: self(task=t, **batch).logits for t in tasks}
                for t, v in logits.items():
                    v = v.float().cpu().numpy()
                    if t not in out:
                        out[t] = np.empty((len(texts), *v.shape[1:]), dtype=np.float32)
                    out[t][idx] = v
        finally:
            self.train(was)
        return out

    @torch.no_grad()
    def layer_features(self, tokenizer, texts: Sequence[str | tuple[str, ...]], batch_size: int = 64,
                       max_length: int = 128, task: str | None = None) -> np.ndarray:
        """(layers + 1, n, hidden): every hidden state (embedding output first) mean-pooled over each text's real
        tokens, in input order; the representations that layer-wise CKA compares. `task` selects its alignment."""
        from ..analysis.similarity import layer_activations

        if len(texts) == 0:
            raise ValueError("layer_features: no texts")
        was = self.training
        self.eval()
        out = None
        try:
            for idx, batch in self._batches(tokenizer, texts, batch_size, max_length, "layer_features"):
                hidden, _ = self.encode(**batch, output_hidden_states=True, task=task or self.tasks[0])
                layers = layer_activations(hidden.hidden_states, batch["attention_mask"], "pooled")
                if out is None:
                    out = np.empty((len(layers), len(texts), layers[0].shape[-1]), dtype=np.float32)
                out[:, idx] = torch.stack(layers).float().cpu().numpy()
        finally:
            self.train(was)
        return out

    def loss(self, task: str, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Cross-entropy (classification), MSE (regression) or BCE-with-logits (multi-label), mean over the batch.

        A classification task with `class_weights[task]` weighs each example's cross-entropy by its class's
        weight and divides by the batch size (not by the batch's weight sum as torch's weighted mean does,
        which would cancel the weights in a batch of one class)."""
        kind = self.specs[task].kind
        if kind == "classification":
            weight = self.class_weights.get(task)
            if weight is None:
                return F.cross_entropy(logits, labels)
            per_example = F.cross_entropy(logits, labels, reduction="none")
            return (per_example * weight.to(per_example.device)[labels]).mean()
        if kind == "regression":
            return F.mse_loss(logits, labels.to(logits.dtype))
        return F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))

    # -- checkpoints -------------------------------------------------------------------------

    def save(self, folder: str | Path) -> Path:
        """Write `encoder/` (save_pretrained), `heads.safetensors` (+ `adapters.safetensors`,
        `alignment.safetensors`) and `model.json` into `folder`."""
        from .adapters import base_state_dict, has_adapters

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        adapted = has_adapters(self.encoder)
        if adapted:  # the encoder under its own names (loadable by transformers), the adapters beside it
            self.encoder.save_pretrained(folder / "encoder", state_dict=base_state_dict(self.encoder))
            _save_tensors({k: v for k, v in self.encoder.state_dict().items() if ".adapter." in k},
                          folder / "adapters.safetensors")
        else:
            self.encoder.save_pretrained(folder / "encoder")
        _save_tensors(self.heads.state_dict(), folder / "heads.safetensors")
        if self.alignment is not None:
            _save_tensors(self.alignment.state_dict(), folder / "alignment.safetensors")
        specs = {n: {"kind": sp.kind, "text_fields": list(sp.text_fields), "metrics": list(sp.metrics),
                     "label_names": list(sp.label_names) if sp.label_names is not None else None,
                     "description": sp.description, "input_group": sp.input_group} for n, sp in self.specs.items()}
        meta = {"tasks": self.tasks, "specs": specs, "pooling": self.pooling, "dropout": self.dropout.p,
                "encoder_name": self.encoder_name, "alignment": self.alignment is not None,
                "adapter_size": self._adapter_size() if adapted else None}
        (folder / "model.json").write_text(json.dumps(meta, indent=2))
        return folder

    def _adapter_size(self) -> int:
        from .adapters import BottleneckAdapter

        return next(m.down.out_features for m in self.encoder.modules() if isinstance(m, BottleneckAdapter))

    @classmethod
    def from_run(cls, run: str | Path, task: str | None = None) -> "MultiTaskModel":
        """The trained model of run folder `run` (made by `train`): its MTL model, or with `task` the model that
        predicts `task` (the STL run's model of that task, or the MTL model). Loads anywhere: the checkpoint
        holds its tasks' specs."""
        from .._io import load_yaml

        config = Path(run) / "config.yaml"
        if not config.is_file():
            raise FileNotFoundError(f"{run}: not a run folder (no config.yaml)")
        saved = load_yaml(config.read_text(), config) or {}
        if task is not None and task not in (saved.get("tasks") or []):
            raise ValueError(f"{run}: task {task!r} was not trained in this run (its tasks: {saved.get('tasks')})")
        if saved.get("mode", "mtl") == "mtl":
            return cls.load(run_checkpoint(run))
        if task is None:
            raise ValueError(f"{run} is an STL run (one model per task): name the task, one of {saved.get('tasks')}")
        return cls.load(run_checkpoint(run, task))

    @classmethod
    def load(cls, folder: str | Path) -> "MultiTaskModel":
        """Inverse of `save`; a missing or incomplete folder raises FileNotFoundError naming what is missing."""
        from .encoders import pretrained_without_pooler, quiet_transformers

        folder = Path(folder)
        for part in (folder / "model.json", _tensor_file(folder, "heads"), folder / "encoder" / "config.json"):
            if not part.exists():
                raise FileNotFoundError(f"checkpoint {folder}: missing {part.relative_to(folder)}")
        meta = json.loads((folder / "model.json").read_text())
        tasks = _checkpoint_specs(folder, meta)
        quiet_transformers()
        encoder = pretrained_without_pooler(folder / "encoder", local_files_only=True)
        model = cls(encoder, tasks, meta["pooling"], meta["dropout"], meta.get("encoder_name", ""))
        if meta.get("adapter_size"):
            from .adapters import add_adapters

            add_adapters(encoder, meta["adapter_size"])
            state = _load_tensors(folder, "adapters")
            missing = [k for k in encoder.state_dict() if ".adapter." in k and k not in state]
            if missing:
                raise FileNotFoundError(f"checkpoint {folder}: its adapters lack {missing[:3]}")
            encoder.load_state_dict(state, strict=False)
        model.heads.load_state_dict(_load_tensors(folder, "heads"))
        if meta.get("alignment"):
            from .alignment import add_alignment

            add_alignment(model).load_state_dict(_load_tensors(folder, "alignment"))
        return model


def stl_folder(folder: str | Path, task: str) -> Path:
    """Where an STL run folder keeps task `task`'s model: `<folder>/stl/<task with / as __>`."""
    return Path(folder) / "stl" / task_key(task)


def run_checkpoint(folder: str | Path, task: str | None = None) -> Path:
    """The best-model checkpoint inside a run folder: `<folder>/checkpoint` (MTL) or `<folder>/stl/<task>/checkpoint`."""
    return (Path(folder) if task is None else stl_folder(folder, task)) / "checkpoint"


def _save_tensors(state: dict, path: Path) -> None:
    from safetensors.torch import save_file

    save_file({k: v.detach().cpu().contiguous() for k, v in state.items()}, str(path))


def _tensor_file(folder: Path, stem: str) -> Path:
    """`<stem>.safetensors`, or `<stem>.pt` of a checkpoint written before safetensors."""
    new = folder / f"{stem}.safetensors"
    return new if new.exists() or not (folder / f"{stem}.pt").exists() else folder / f"{stem}.pt"


def _load_tensors(folder: Path, stem: str) -> dict:
    from safetensors.torch import load_file

    path = _tensor_file(folder, stem)
    return load_file(str(path)) if path.suffix == ".safetensors" else torch.load(path, weights_only=True)


def _checkpoint_specs(checkpoint: Path, meta: dict) -> list:
    """The tasks of a checkpoint: the specs it stores (kind, classes, text fields, metrics: what its heads mean),
    so it loads anywhere, also without the task file its run read; each spec keeps the registered task's data
    loader when that task is known here (after registering the run's task files, if they are still there) with
    the same kind and classes. A checkpoint written before specs were stored needs its tasks registered."""
    from ..tasks import DataError, TaskSpec, UnknownTaskError
    from ..tasks.registry import TASKS

    if "specs" not in meta:
        _register_run_task_files(checkpoint, meta["tasks"])
        return list(meta["tasks"])
    try:
        _register_run_task_files(checkpoint, meta["tasks"])
    except (OSError, ValueError, UnknownTaskError):   # the task file is gone or changed: the specs suffice
        pass
    out = []
    for name in meta["tasks"]:
        stored = meta["specs"][name]
        labels = tuple(stored["label_names"]) if stored["label_names"] is not None else None
        known = TASKS.get(name)
        if known is not None and known.kind == stored["kind"] and known.label_names == labels:
            loader = known.loader
        else:
            def loader(root, name=name):
                raise DataError(f"task {name}: checkpoint {checkpoint} holds its spec but its data is not "
                                "registered here (register the task file it was trained on, with the same classes)")
        out.append(TaskSpec(name, stored["kind"], tuple(stored["text_fields"]), tuple(stored["metrics"]), labels,
                            loader, stored.get("description", ""), input_group=stored.get("input_group")))
    return out


def _register_run_task_files(checkpoint: Path, tasks) -> None:
    """A checkpoint of users' tasks (a task file) read in a fresh process: register the task files its run's
    config.yaml names (the run folder is the checkpoint's parent, or three levels up for `stl/<task>/checkpoint`);
    a task still unknown after that raises UnknownTaskError saying which file the run used."""
    from .._io import load_yaml

    from ..tasks import UnknownTaskError, get_task
    from ..tasks.registry import TASKS

    unknown = [t for t in tasks if t not in TASKS]
    if not unknown:
        return
    files: list[str] = []
    for run in (checkpoint.parent, checkpoint.parent.parent.parent):
        config = run / "config.yaml"
        if config.is_file():   # its paths are relative to the run folder (absolute in runs made before)
            files = [str(run / f) for f in (load_yaml(config.read_text(), config) or {}).get("task_files") or []]
            break
    from ..tasks.user import register_task_file

    for f in files:
        if Path(f).is_file():
            register_task_file(f)
    still = [t for t in unknown if t not in TASKS]
    if still:
        hint = (f"its run used the task file(s) {files}, not found here: pass the task file (e.g. "
                "mtlcore.tasks.register_task_file(path)) before loading" if files else
                "register its task file first (mtlcore.tasks.register_task_file(path))")
        raise UnknownTaskError(f"checkpoint {checkpoint}: unknown task(s) {still}; {hint}")
    for t in unknown:
        get_task(t)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
