"""The data layer: the task registry and the task families that fill it.

- `registry`: `TaskSpec`, `Examples`, `register_task` / `get_task` / `load_task`, split policy.
- `readers`: strict readers for the vendored file layouts.
- `benchmarks`: GLUE and SentEval tasks.
- `lumbar`: sentence splitting, level tagging and the silver labeller of lumbar spine MRI notes.
- `openi`: the Open-i chest X-ray report archive (text, MeSH findings, CheXpert-style labels).
- `radiology`: the `radiology/lumbar/*` and `radiology/openi/*` tasks built from those two.
- `user`: users' own task files (CSV / TSV / JSONL declared by a YAML spec).
"""
from .registry import (DEV_FRACTION, KINDS, SPLIT_SEED, TASKS, DataError, Examples, TaskSpec, UnknownTaskError,
                       check_splits, data_root, get_task, group_split, load_task, note_read, register_task,
                       stratified_split, task_key, task_table)
from .readers import read_glue_tsv, read_labelled_lines, read_lines, read_sst_fine, read_text, read_trec, read_tsv
from .benchmarks import download_official
from .radiology import register_lumbar_tasks, register_openi_tasks
from .user import load_task_file, register_task_file, shared_input_group

register_lumbar_tasks()
register_openi_tasks()

__all__ = ["DEV_FRACTION", "KINDS", "SPLIT_SEED", "TASKS", "DataError", "Examples", "TaskSpec", "UnknownTaskError",
           "check_splits", "data_root", "download_official", "get_task", "group_split", "load_task", "note_read",
           "read_glue_tsv", "read_labelled_lines", "read_lines", "read_sst_fine", "read_text", "read_trec", "read_tsv",
           "register_task", "stratified_split", "task_key", "task_table", "load_task_file", "register_task_file", "shared_input_group"]
