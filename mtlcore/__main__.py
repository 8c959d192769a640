"""Command line: `python -m mtlcore tasks`, `python -m mtlcore train ...` and `python -m mtlcore predict ...`.

    python -m mtlcore tasks
    python -m mtlcore train --tasks glue/rte,glue/mrpc --mode mtl --max-train 200 --epochs 1 --seed 1 --out runs/a
    python -m mtlcore train --config run.yaml --out runs/b      # same fields as TrainConfig; flags override
    torchrun --standalone --nproc_per_node 2 -m mtlcore train --tasks glue/rte,glue/mrpc --device cpu --out runs/c
    python -m mtlcore predict --run runs/a --input texts.csv --out predictions.csv
    python -m mtlcore evaluate --run runs/a --split test --out runs/a/eval

Exit codes: 0 done; 2 bad input (config, flags, data, encoder, --out), nothing written; 1 the run
failed after it started (divergence, another process writing the same --out, an interruption):
`<out>.partial/` is left, marked by FAILED.json where the error could be recorded.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from pathlib import Path

from ._io import LockedError, WriteError, disk_error, positive_int as _positive_int
from .training.config import ConfigError, TrainConfig
from .tasks import DataError, UnknownTaskError

# flags of `train`: every TrainConfig field, spelled with dashes
_BOOL = {f.name for f in dataclasses.fields(TrainConfig) if f.type in ("bool", bool)}


def _json_mapping(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise argparse.ArgumentTypeError(f"not valid JSON ({e.msg} at character {e.pos}): {text!r}; "
                                         'expected e.g. {"glue/rte": 2, "glue/mrpc": 1}') from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f'expected a JSON object of task: weight, e.g. {{"glue/rte": 2}}, got {text!r}')
    return value


def field_help(cls: type = TrainConfig) -> dict[str, str]:
    """{field: its comment in the class's source} (the one place a field is documented), with its default."""
    import inspect

    comments = dict(re.findall(r"^\s+(\w+): [^#\n]*#\s*(.+)$", inspect.getsource(cls), flags=re.MULTILINE))
    out = {}
    for f in dataclasses.fields(cls):
        default = f.default_factory() if f.default is dataclasses.MISSING else f.default   # type: ignore[misc]
        shown = "none" if default is None else ",".join(default) if isinstance(default, list) else default
        out[f.name] = f"{comments.get(f.name, '')} (default: {shown})".lstrip().replace("%", "%%")
    return out


_FORMAT = {"task_weights": 'JSON, e.g. {"glue/rte": 2}:'}
_METAVAR = {"int": "N", "float": "X", "str": "TEXT"}


def _run_arguments(p: argparse.ArgumentParser) -> None:
    """--run, --batch-size and --progress: the flags of the commands that use a trained run's models."""
    p.add_argument("--run", required=True, help="a run folder made by `train` (with its checkpoint)")
    p.add_argument("--batch-size", type=_positive_int, default=64, metavar="N", help="texts per batch (default: 64)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True, help="a progress bar")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m mtlcore", description="multi-task learning companion")
    sub = p.add_subparsers(dest="command", required=True)
    ts = sub.add_parser("tasks", help="list every registered task with its split sizes; `tasks check SPEC` checks "
                        "splits and classes")
    tsub = ts.add_subparsers(dest="tasks_command")
    tc = tsub.add_parser("check", help="examples per split and class, with warnings for tiny splits and rare classes",
                         description="Count the examples of each split and class of the tasks, and warn about what "
                         "would make a score mean little (see mtlcore.tasks.check).")
    tc.add_argument("spec", nargs="+", help="a task file (.yaml), task names, comma lists or patterns such as "
                    "'radiology/lumbar/*'")
    tc.add_argument("--strict", action="store_true", help="exit 1 when there is a warning")
    t = sub.add_parser("train", help="train STL or MTL models (fields of TrainConfig)",
                       description="Train one multi-task model (--mode mtl) or one model per task (--mode stl) into "
                       "a run folder. Every TrainConfig field is a flag (dashes or underscores: --max-train or "
                       "--max_train); --config reads them from YAML and flags override it. Defaults are the "
                       "TrainConfig defaults; the choices of a field are checked with its error message.",
                       epilog="example: python -m mtlcore train --tasks radiology/lumbar/disc_bulge --head-lr 1e-3 "
                       "--class-weights balanced --out runs/x")
    pr = sub.add_parser("predict", help="predict with a trained run on new texts (CSV or JSONL in and out)",
                        description="Each task of the run predicts every row of --input: the class name and the "
                        "class probabilities (classification), 0/1 and a probability per label (multi-label) or "
                        "the score (regression), added to the input's columns. See mtlcore.training.predict.")
    _run_arguments(pr)
    pr.add_argument("--input", required=True, help="CSV or JSONL file of texts; - reads standard input")
    pr.add_argument("--out", required=True, help="CSV, or JSONL for a .jsonl name; - prints CSV")
    pr.add_argument("--text-column", help="the column holding the text (default: each task's own text columns)")
    pr.add_argument("--tasks", help="comma-separated subset of the run's tasks (default: all)")
    ev = sub.add_parser("evaluate", help="score a trained run on a labelled split of its tasks",
                        description="Metrics, confusion matrices and per-example predictions of the run's models on "
                        "--split of their tasks, written into --out. See mtlcore.training.predict.")
    _run_arguments(ev)
    ev.add_argument("--tasks", help="comma-separated subset of the run's tasks, or a task file to register first "
                    "(default: all the run's tasks)")
    ev.add_argument("--split", default="test", help="train, dev or test (default: test)")
    ev.add_argument("--max-eval", type=_positive_int, metavar="N",
                    help="the first N examples of the split (default: all)")
    ev.add_argument("--out", required=True, help="folder for metrics.json, confusion and prediction tables")
    ex = sub.add_parser("export", help="one task of a trained run as a Hugging Face model folder",
                        description="Write --task of --run as a folder that transformers' "
                        "AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True) loads "
                        "with its class names and the run's pooling. See mtlcore.training.export.")
    ex.add_argument("--run", required=True, help="a run folder made by `train` (with its checkpoint)")
    ex.add_argument("--task", required=True, help="the task to export (one of the run's tasks)")
    ex.add_argument("--out", required=True, help="the Hugging Face model folder to create")
    ex.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    af = sub.add_parser("affinity", help="which tasks can share one model, predicted from short probes",
                        description="Train short single-task probes and one multi-task probe (cached), measure for "
                        "every pair of tasks the look-ahead affinity, gradient cosine, CKA of the probes and the "
                        "covariance similarity of their inputs, and recommend a grouping of the tasks. See "
                        "mtlcore.advisor.affinity.")
    af.add_argument("--tasks", required=True, help="task names, comma lists, patterns or a task file (2 or more)")
    af.add_argument("--out", required=True, help="folder for affinity.json, affinity_pairs.csv and the heatmaps")
    af.add_argument("--max-groups", type=_positive_int, metavar="G", help="at most G models (default: any number)")
    af.add_argument("--probe-examples", type=_positive_int, default=256, metavar="N",
                    help="training examples per task and probe, one epoch (default: 256)")
    af.add_argument("--records", type=_positive_int, default=4, metavar="R",
                    help="batches per task the look-ahead and gradient signals average over (default: 4)")
    af.add_argument("--encoder", default="minilm-l6", help="the encoder (default: minilm-l6)")
    af.add_argument("--seed", type=int, default=0, help="the probes' seed (default: 0)")
    af.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    af.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True, help="progress bars")
    t.add_argument("--config", help="YAML file with TrainConfig fields")
    t.add_argument("--out", required=True, help="run folder to create (built in <out>.partial/, renamed when done)")
    t.add_argument("--resume", action="store_true", help="continue <out>.partial from its last epoch")
    t.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    helps = field_help()
    for f in dataclasses.fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        text = f"{_FORMAT[f.name]} {helps[f.name]}" if f.name in _FORMAT else helps[f.name]
        if f.name in _BOOL:
            t.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=text)
        elif f.name == "task_weights":
            t.add_argument(flag, dest=f.name, type=_json_mapping, default=None, help=text, metavar="JSON")
        elif f.name == "tasks":
            t.add_argument(flag, dest=f.name, default=None, help=text, metavar="T1,T2")
        else:  # annotations are strings here (postponed evaluation): "int | None", "float", "str"
            kind = int if str(f.type).startswith("int") else float if str(f.type).startswith("float") else str
            t.add_argument(flag, dest=f.name, type=kind, default=None, help=text, metavar=_METAVAR[kind.__name__])
    return p


_NEGATIVE = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-(inf|nan)$", re.IGNORECASE)


def _join_negative_values(argv: list[str]) -> list[str]:
    """`--lr -1e-3` -> `--lr=-1e-3`: argparse reads a token like -1e-3 as a flag, so a negative value would be
    reported as a missing argument instead of reaching the config check that names what is wrong with it. Flags
    spelled with underscores (`--max_train`, the field's own name) become the dashed flag."""
    out: list[str] = []
    for token in argv:
        if token.startswith("--") and "_" in token.split("=", 1)[0]:
            name, *value = token.split("=", 1)
            token = "=".join([name.replace("_", "-"), *value])
        if out and out[-1].startswith("--") and "=" not in out[-1] and _NEGATIVE.match(token):
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
    return out


# flags that only an MTL run uses: with --mode stl they would be accepted and silently do nothing
_MTL_ONLY = {"gradient_cosine_every": "gradient cosines are recorded between the tasks of one model",
             "task_weights": "each STL model has one task, so there is nothing to weigh",
             "sampling": "each STL model samples batches of its one task", "temperature": "see --sampling"}


def _unused_flags(cfg: TrainConfig, flags: dict) -> list[str]:
    """The command-line flags that do nothing for `cfg` (see `_MTL_ONLY`), with why."""
    if cfg.mode != "stl":
        return []
    return [f"--{name.replace('_', '-')} ({why})" for name, why in _MTL_ONLY.items()
            if name in flags and flags[name] != getattr(TrainConfig(tasks=cfg.tasks), name)]


def _predict(args) -> int:
    from .training.predict import predict_run, read_input, write_predictions

    if args.out != "-" and Path(args.out).is_dir():
        raise ConfigError(f"--out {args.out} is a folder; name the output file")
    frame, name, first_line = read_input(args.input)
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()] if args.tasks else None
    result = predict_run(args.run, frame, name, first_line, tasks, args.text_column, args.batch_size, args.progress)
    write_predictions(result, args.out)
    if args.out != "-":
        print(f"{len(result)} rows, {len(result.columns) - len(frame.columns)} prediction columns -> {args.out}",
              file=sys.stderr)
    return 0


def _evaluate(args) -> int:
    from .training.predict import evaluate_run, write_evaluation

    tasks = None
    if args.tasks and args.tasks.lower().endswith((".yaml", ".yml")):
        from .tasks.user import register_task_file

        tasks = register_task_file(args.tasks)
    elif args.tasks:
        tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    metrics, confusions, examples = evaluate_run(args.run, tasks, args.split, args.max_eval, args.batch_size,
                                                 args.progress)
    folder = write_evaluation(args.out, metrics, confusions, examples)
    import pandas as pd

    table = pd.DataFrame(metrics).T.rename_axis(args.split)
    table["n"] = table["n"].astype(int)
    with pd.option_context("display.width", 200, "display.float_format", "{:.4f}".format):
        print(table[["n", *[c for c in table.columns if c != "n"]]].to_string(na_rep="-"))
    print(f"-> {folder}/metrics.json, *_confusion.csv, *_predictions.csv", file=sys.stderr)
    return 0


def _tasks(args) -> int:
    import pandas as pd

    from .tasks import task_table

    if args.tasks_command != "check":
        with pd.option_context("display.width", 200, "display.max_colwidth", 80):
            print(task_table().to_string(index=False))
        return 0
    from .tasks.check import check_tasks, expand_task_names

    table, warnings = check_tasks(expand_task_names(args.spec))
    with pd.option_context("display.width", 200, "display.max_colwidth", 120):
        print(table.to_string(index=False))
    for line in warnings:
        print(f"warning: {line}", file=sys.stderr)
    print(f"{table['task'].nunique()} task(s), {len(warnings)} warning(s)")
    return 1 if warnings and args.strict else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(_join_negative_values(sys.argv[1:] if argv is None else list(argv)))
    # (after parsing: --help and usage errors do not wait for torch)
    from .training import distributed
    from .training.encoders import EncoderError
    from .training.runs import RunFolderError
    from .training.trainer import DivergenceError, UndefinedScoreError

    try:
        if args.command == "tasks":
            return _tasks(args)
        if args.command == "predict":
            return _predict(args)
        if args.command == "evaluate":
            return _evaluate(args)
        if args.command == "affinity":
            from .advisor.affinity import main_affinity

            return main_affinity(args)
        if args.command == "export":
            from .training.export import export_task

            print(f"exported {args.task} to {export_task(args.run, args.task, args.out, args.overwrite)}")
            return 0
        from .training.runs import train

        base = TrainConfig.from_yaml(args.config).to_dict() if args.config else {}
        flags = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
                 if getattr(args, f.name) is not None}
        cfg = TrainConfig.from_dict({**base, **flags}, source=args.config or "command line")
        unused = _unused_flags(cfg, flags)
        if unused:
            raise ConfigError(f"with --mode stl these flags do nothing: {'; '.join(unused)}; drop them, or train "
                              "with --mode mtl")
        result = train(cfg, out=args.out, resume=args.resume, overwrite=args.overwrite)
        if not distributed.context(cfg.device).is_main:  # under torchrun rank 0 reports
            return 0
        m = result.metrics
        summary = {"mode": cfg.mode, "dev average": round(m["average"], 4),
                   "dev": {t: round(v["score"], 4) for t, v in m["tasks"].items()}}
        if "test" in m:  # the dev-selected model on the tasks that have a test split
            summary.update({"test average": round(m["test"]["average"], 4),
                            "test": {t: round(v["score"], 4) for t, v in m["test"]["tasks"].items()}})
        print(json.dumps({**summary, "out": str(result.folder)}, indent=2))
        return 0
    except (ConfigError, DataError, UnknownTaskError, EncoderError, FileNotFoundError, FileExistsError, ValueError) as e:
        # (PredictInputError is a ValueError)
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (DivergenceError, UndefinedScoreError, RunFolderError, LockedError, distributed.RankError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except (OSError, RuntimeError) as e:   # disk full, quota or file-size limit while writing the run
        err = e if isinstance(e, WriteError) else disk_error(e, getattr(e, "filename", None) or f"{args.out}.partial/")
        if err is None:
            raise
        kept = f"; the unfinished run is kept in {args.out}.partial/" if args.command == "train" else ""
        print(f"error: {err.strerror}{kept}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: the unfinished run is kept in <out>.partial/ (continue it with --resume)", file=sys.stderr)
        return 130
    finally:
        distributed.close()


if __name__ == "__main__":
    sys.exit(main())
