"""Data-parallel training under `torchrun`: which process this is, and the few collectives the trainer needs.

    torchrun --standalone --nproc_per_node 2 -m mtlcore train --tasks glue/rte,glue/mrpc --device cpu --out runs/ddp
    torchrun --standalone --nproc_per_node 8 -m mtlcore train --config run.yaml --out runs/big     # 8 GPUs
    torchrun --nnodes 2 --node_rank R --nproc_per_node 8 --rdzv_backend c10d \
             --rdzv_endpoint HOST:29500 -m mtlcore train --config run.yaml --out /shared/runs/big  # 2 nodes

`torchrun` sets WORLD_SIZE, RANK and LOCAL_RANK; `context(device)` reads them and joins the process group
(gloo on the CPU, NCCL on CUDA, each rank on `cuda:LOCAL_RANK`). Without them it is the one-process context
and nothing here communicates.

The experiment does not depend on the number of processes: `batch_size` is the GLOBAL batch. Every rank
draws the same task schedule and the same length-grouped batches from the (seed, epoch) generators, and
takes every world-th row of each batch (`shard`); its loss is scaled by n_rank * world / n so that DDP's
gradient average equals the gradient of the whole batch's mean loss, also when a batch does not split
evenly. One run on W processes therefore computes what one process computes, up to the order of
floating-point sums (`tests/test_distributed.py` measures how close). Rank 0 alone writes the run folder.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, TypeVar

import numpy as np
import torch

T = TypeVar("T")


class RankError(RuntimeError):
    """Another rank failed or sees the run folder differently; the message says which and why."""


@dataclass(frozen=True)
class DistContext:
    """rank / world / local_rank of this process; `world == 1` is plain single-process training."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        """The process that writes files and prints (rank 0)."""
        return self.rank == 0

    def barrier(self) -> None:
        if self.enabled:
            torch.distributed.barrier()

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        """Element-wise sum of `values` over all ranks (returned on every rank; float64 on the CPU for gloo)."""
        if not self.enabled:
            return values
        out = values.detach().clone()
        torch.distributed.all_reduce(out)
        return out

    def gather(self, obj: object) -> list[object]:
        """[obj of rank 0, obj of rank 1, ...] on every rank (pickled; for evaluation outputs, not tensors)."""
        if not self.enabled:
            return [obj]
        out: list[object] = [None] * self.world
        torch.distributed.all_gather_object(out, obj)
        return out

    def broadcast(self, obj: object) -> object:
        """Rank 0's `obj` on every rank."""
        if not self.enabled:
            return obj
        box = [obj]
        torch.distributed.broadcast_object_list(box, src=0)
        return box[0]


    def on_main(self, fn: Callable[[], T]) -> T | None:
        """Run `fn` on rank 0 only (folder set-up, locks); if it raises there, every other rank raises `RankError`
        with its message instead of waiting for rank 0 at the next collective."""
        error, result = None, None
        if self.is_main:
            try:
                result = fn()
            except BaseException as e:  # noqa: BLE001 - re-raised below, after the others are told
                error = e
        failed = self.broadcast(None if error is None else f"{type(error).__name__}: {error}")
        if error is not None:
            raise error
        if failed is not None:
            raise RankError(f"rank 0 failed: {failed}")
        return result

    def same_everywhere(self, value: object, what: str) -> None:
        """Every rank raises RankError unless every rank has the same `value` (e.g. a hash of the run's config:
        a rank started with another --lr or --out must not train a different run in step with the others)."""
        values = self.gather(value)
        if any(v != values[0] for v in values):
            differ = [r for r, v in enumerate(values) if v != values[0]]
            raise RankError(f"the ranks disagree on {what}: rank(s) {differ} differ from rank 0; start every rank "
                            "with the same command line and config")

    def agree(self, value: object, what: str) -> object:
        """Rank 0's `value`; a rank whose own `value` differs raises RankError (e.g. it cannot see rank 0's files)."""
        theirs = self.broadcast(value)
        if theirs != value:
            raise RankError(f"rank {self.rank} sees {what} as {value!r}, rank 0 as {theirs!r}: the run folder must be "
                            "on a filesystem that every node sees")
        return theirs


SINGLE = DistContext()


def launched() -> bool:
    """True inside a process that torchrun started with more than one process in the job."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def context(device: str = "auto") -> DistContext:
    """This process's context; joins the process group on first use under torchrun (else `SINGLE`)."""
    if not launched():
        return SINGLE
    dist = torch.distributed
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    if not dist.is_initialized():
        if cuda:
            torch.cuda.set_device(local)
        dist.init_process_group("nccl" if cuda else "gloo")
    return DistContext(rank, world, local)


def close() -> None:
    """Leave the process group (at the end of a torchrun job's command)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def rank_device(device: str, ctx: DistContext) -> str:
    """The device string of this rank: under torchrun, 'cuda' / 'auto' with CUDA become 'cuda:LOCAL_RANK'."""
    if ctx.enabled and device.startswith("cuda:"):
        raise ValueError(f"device: {device!r} would put every rank on one GPU; under torchrun use 'cuda' or 'auto' "
                         "(each rank takes cuda:LOCAL_RANK) and choose GPUs with CUDA_VISIBLE_DEVICES")
    if ctx.enabled and (device in ("cuda", "auto") and torch.cuda.is_available()):
        return f"cuda:{ctx.local_rank}"
    return device


def shard(index: np.ndarray, ctx: DistContext) -> tuple[np.ndarray, float]:
    """(this rank's rows of a global batch, loss scale): rows rank, rank + world, ...; scale n_rank * world / n.

    A rank whose share is empty (a batch smaller than the world) takes one row with scale 0: it still runs
    the forward and backward pass that DDP's collective needs, and contributes nothing."""
    if not ctx.enabled:
        return index, 1.0
    mine = index[ctx.rank::ctx.world]
    if len(mine) == 0:
        return index[:1], 0.0
    return mine, len(mine) * ctx.world / len(index)
