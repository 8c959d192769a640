"""Does a training run repeat bit for bit on another CPU instruction set, and if not, by how much does it move?

    python benchmarks/cpu_capability.py [--capabilities native,native,avx2,avx2-all] [--seeds 20,21]
                                        [--max-train 600]

torch dispatches its CPU element-wise kernels (softmax, layer norm, GELU, the optimiser's updates) by the CPU's
capability (AVX2, AVX512, ...), chosen once at start-up and lowered with the environment variable
ATEN_CPU_CAPABILITY; its matrix products (MKL, oneDNN) choose their own kernels by instruction set, lowered with
MKL_ENABLE_INSTRUCTIONS and ONEDNN_MAX_CPU_ISA. Each arm runs in its own process: "native" (nothing lowered,
the machine's own), an ATEN_CPU_CAPABILITY value ("avx2", "default": the element-wise kernels only) or
"avx2-all" (all three at AVX2: what a machine without AVX512 computes). One machine so stands in for machines of
different instruction sets.

Two measurements:
1. one forward and backward pass of the encoder on a fixed batch (dropout on, seeded): a digest of the outputs
   and of one gradient per arm, so a difference shows before any training;
2. the same training per arm: Paper A's cpu recipe (`notebooks/profiles/cpu.yaml`, paper_a train block) on one
   MTL model over the six lumbar tasks at `--max-train` examples per task, the first seed of `--seeds`; each
   arm's dev macro-F1 per task and mean, and whether every epoch's dev scores equal the first arm's exactly.
   The other seeds run at the native capability only and give the seed-to-seed spread the move is set against.
Only dev scores are read (test is not looked at). Threads: torch's default for this process (the cache keys on
the count; so does this comparison, which holds it fixed).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ALL_AVX2 = {"MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}   # with ATEN_CPU_CAPABILITY=avx2


def _forward_digest(encoder: str) -> dict:
    import hashlib

    import torch

    from mtlcore.training.encoders import load_encoder

    torch.manual_seed(0)
    model, tok = load_encoder(encoder)
    model.train()
    batch = tok(["mild disc bulge at L4-L5 with narrowing of the neural foramina"] * 8 + ["no stenosis"] * 8,
                padding=True, return_tensors="pt")
    out = model(**batch).last_hidden_state
    out.pow(2).mean().backward()
    grad = next(p.grad for p in model.parameters() if p.grad is not None and p.dim() == 2)
    digest = lambda t: hashlib.sha256(t.detach().contiguous().numpy().tobytes()).hexdigest()[:12]  # noqa: E731
    return {"output": digest(out), "gradient": digest(grad), "output_sum": float(out.double().sum())}


def _worker(args) -> None:
    """One arm, in this process: the forward digest and (with --seed) one training; a JSON line on stdout."""
    import tempfile
    from pathlib import Path

    import torch

    from mtlcore import TrainConfig
    from mtlcore.training.config import Profile
    from mtlcore.tasks.lumbar import PATHOLOGIES
    from mtlcore.training.runs import train

    row = {"capability": torch.backends.cpu.get_cpu_capability(), "threads": torch.get_num_threads(),
           **_forward_digest(args.encoder)}
    if args.seed is not None:
        profile = Profile.from_yaml(Path(__file__).resolve().parents[1] / "notebooks/profiles/cpu.yaml")
        recipe = profile.parameters("paper_a/a_t1_families", {"train"})["train"]
        cfg = TrainConfig.from_dict({**recipe, "tasks": [f"radiology/lumbar/{p}" for p in PATHOLOGIES],
                                     "mode": "mtl", "encoder": args.encoder, "max_train": args.max_train,
                                     "seed": args.seed, "progress": False, "save_checkpoint": False,
                                     "gradient_cosine_every": 0}, source="cpu.yaml paper_a train")
        with tempfile.TemporaryDirectory() as tmp:
            m = train(cfg, out=Path(tmp) / "run").metrics
        row.update(seed=args.seed, dev={t.rsplit("/", 1)[-1]: 100 * v["score"] for t, v in m["tasks"].items()},
                   dev_mean=100 * m["average"], history=[h["average"] for h in m["history"]],
                   best_epoch=m.get("best_epoch"))
    print(json.dumps(row))


def _run(capability: str, seed: int | None, args) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("ATEN_CPU_CAPABILITY", *ALL_AVX2)}
    if capability == "avx2-all":
        env.update(ATEN_CPU_CAPABILITY="avx2", **ALL_AVX2)
    elif capability != "native":
        env["ATEN_CPU_CAPABILITY"] = capability
    cmd = [sys.executable, __file__, "--worker", "--encoder", args.encoder, "--max-train", str(args.max_train)]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"arm {capability} seed {seed} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--capabilities", default="native,native,avx2,avx2-all",
                    help="comma-separated arms: native (the machine's own), an ATEN_CPU_CAPABILITY value (default, "
                         "avx2, avx512) or avx2-all; the first is the reference (default native,native,avx2,avx2-all)")
    ap.add_argument("--seeds", default="20,21", help="the first trains in every arm; the rest at native only")
    ap.add_argument("--max-train", type=int, default=600)
    ap.add_argument("--encoder", default="minilm-l6")
    ap.add_argument("--no-train", action="store_true", help="only the forward/backward digests")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return _worker(args)
    arms = args.capabilities.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    first = None if args.no_train else seeds[0]
    rows = []
    for arm in arms:
        rows.append({"arm": arm, **_run(arm, first, args)})
        r = rows[-1]
        line = f"{arm:8s} ({r['capability']}, {r['threads']} threads): forward {r['output']} gradient {r['gradient']}"
        if first is not None:
            same = r["history"] == rows[0]["history"] and r["dev"] == rows[0]["dev"]
            line += (f"; seed {first} dev mean {r['dev_mean']:.3f} (best epoch {r['best_epoch']}), "
                     f"{'identical to' if same else 'differs from'} arm 1")
        print(line, flush=True)
    if first is None:
        return
    ref = rows[0]
    for r in rows[1:]:
        if r["arm"] != ref["arm"]:
            moved = {t: round(r["dev"][t] - ref["dev"][t], 2) for t in ref["dev"]}
            print(f"{r['arm']} - {ref['arm']} at seed {first}: dev mean {r['dev_mean'] - ref['dev_mean']:+.2f} points; "
                  f"per task {moved}")
    others = [_run(arms[0], s, args) for s in seeds[1:]]
    for o in others:
        print(f"{arms[0]} seed {o['seed']}: dev mean {o['dev_mean']:.3f}; seed {o['seed']} - seed {first}: "
              f"{o['dev_mean'] - ref['dev_mean']:+.2f} points (the seed-to-seed move, for scale)")


if __name__ == "__main__":
    main()
