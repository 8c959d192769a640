"""The report: every item of the two papers, our result beside the paper's, and a verdict.

`write_report(results_dir, profile)` reads the verdicts the notebooks recorded
(`claims/<item>.json`, see `mtlcore.reporting.claims`), the pipeline's `summary.json` and the environment,
and writes `report.md` and `report.html` (figures linked relative to the results folder, so the
page shows them when opened from there). Items no notebook has produced yet appear as "not run".
The paper column holds the papers' own numbers and claims, quoted for comparison only.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

from .._io import atomic_write_text
from .claims import load_claims
from ..provenance import provenance


@dataclass(frozen=True)
class Item:
    id: str
    paper: str
    title: str
    claim: str  # the paper's own number or claim


ITEMS = (
    Item("A-T1", "A", "STL vs MTL per task (macro-F1), both substitute corpora; efficiency of one MTL model vs k STL models",
         "One MTL model matches the task-specific STL models on spine MRI pathology extraction, at a fraction of the parameters and inference cost."),
    Item("A0-T1", "A", "STL fine-tuning vs STL with adapters vs MTL (and MTL with adapters)",
         "MTL is on par with STL fine-tuning and with task adapters (predecessor paper, C-spine reports)."),
    Item("A-F1", "A", "Pipeline on a real report: sentences, level tags, grouped text, predictions",
         "Report -> sentences -> level tag per sentence -> text grouped per level -> per-pathology severity."),
    Item("A-F2", "A", "Layer-wise linear CKA between STL models and between STL and MTL",
         "STL models are similar across all hidden layers when MTL works."),
    Item("A-F3", "A", "Task-gradient cosines on the shared encoder, per layer, over MTL training",
         "The tasks' gradients are aligned (positive cosine) when MTL works."),
    Item("A-F4", "A", "Representation similarity and gradient cosine vs the MTL - STL gap over many task groups",
         "Similarity and gradient alignment explain when MTL matches STL (radiology pairs vs contrast pairs)."),
    Item("B-F2", "B", "Three-task toy example", "Training task 1 with task 2 (same boundary) helps; with task 3 it hurts."),
    Item("B-F3", "B", "Synthetic transfer vs number of source samples (linear, ReLU, classification)",
         "Only the same-covariance source transfers positively without huge source sample counts."),
    Item("B-P1", "B", "Capacity: shared width r vs number of tasks k (Prop. 1)",
         "With r >= k there is an optimum with B A_i = theta_i: no transfer; shared capacity should be below the sum of STL capacities."),
    Item("B-P3", "B", "Prop. 3 closed form and SVD reweighting (Alg. 2) on synthetic data",
         "The optimal shared subspace is the rank-r approximation of sum_i alpha_i U^T y_i y_i^T U; reweighting helps when a task is noisy."),
    Item("B-F5a", "B", "GLUE pairs with vs without covariance alignment (Alg. 1)",
         "Alignment wins on 7/10 pairs; all 5 tasks together +2.35 average GLUE score (BERT-LARGE)."),
    Item("B-F5b", "B", "Transfer from SST to MR, CR, SUBJ, MPQA, TREC with vs without alignment",
         "Better on 4 of 5 targets, up to +2.5% accuracy."),
    Item("B-F6", "B", "Capacity table, 6 sentiment tasks (LSTM): STL best capacities vs one MTL model",
         "STL capacities 200/200/5/200/500/100 (sum 1205), mean accuracy 82.6; MTL with shared capacity 100: 85.1 "
         "(the paper's MTL column averages 86.8; one entry is likely misprinted)."),
    Item("B-F7", "B", "Covariance similarity score vs accuracy gain from alignment, 15 sentiment pairs",
         "Alignment gains on 13/15 pairs, up to +4.1%; the score rises on all 15 after alignment."),
    Item("B-T1", "B", "SVD reweighting vs uniform weights, multi-label data sharing inputs",
         "ChestX-ray14: +0.4 mean AUC; with random labels on 20% of one task's data, over 20 pairs: +2.4 mean AUC."),
    Item("ADV", "mtlcore", "Task-affinity advisor (python -m mtlcore affinity) against real runs: A-F4's groups, a mixed task set",
         "Not a paper's claim (issue 24): short probes should rank the groups' real MTL - STL gaps, cost at most 10% of "
         "training every group, and recommend a grouping at least as good as one model or one model per task."),
)

COLORS = {"reproduced": "#2e7d32", "partly": "#ef6c00", "not reproduced": "#c62828", "inconclusive": "#1565c0",
          "failed": "#6a1b9a", "not run": "#757575"}


def _rows(results: Path) -> list[dict]:
    """One row per paper item, from current, complete records only. A claim whose notebook failed or did not
    finish in the latest run (summary.json) becomes a `failed` row with that error and no figures; with no
    readable summary.json, or a claim that no notebook of the summary wrote, the claim cannot be tied to a
    completed run and is shown as `not run` with the reason; an unreadable claim file is `failed`, named. An
    older verdict is never shown as current. Figures that no longer exist are listed as missing."""
    claims = load_claims(results)
    summary = _summary(results)
    status = {r.get("notebook"): r for r in summary.get("notebooks", [])}
    rows = []
    for item in ITEMS:
        c = claims.get(item.id)
        run = status.get(c.get("notebook")) if c else None
        if c and c.get("unreadable"):
            c = {**c, "verdict": "failed"}
        elif c and not summary:
            c = {**c, "ours": "summary.json is missing or unreadable, so this verdict cannot be tied to a completed "
                              "run; run the pipeline again (make reproduce)", "checks": {}, "artefacts": [],
                 "verdict": "not run", "reason": ""}
        elif c and run is None:
            c = {**c, "ours": f"no notebook of the latest run wrote this claim (it names {c.get('notebook')!r}); run "
                              "the pipeline again", "checks": {}, "artefacts": [], "verdict": "not run", "reason": ""}
        elif run is not None and run.get("status") in ("failed", "running"):
            error = run.get("error") or "did not finish"
            c = {**c, "ours": f"notebook {run['notebook']} failed in the latest run: {error}",
                 "checks": {}, "artefacts": [], "verdict": "failed"}
        if c:
            c = {**c, "missing": [a for a in c.get("artefacts", []) if not (results / a).is_file()],
                 "artefacts": [a for a in c.get("artefacts", []) if (results / a).is_file()]}
        rows.append({"item": item, "verdict": c["verdict"] if c else "not run", "claim": c})
    return rows


def _number(x: float) -> str:
    return f"{x:+.3g}" if abs(x) < 1000 else f"{x:+.0f}"


def plain_words(claim: dict) -> list[str]:
    """What the verdict rests on, in words: one sentence per deciding ('core') condition of the claim, from its
    stored estimate, interval, threshold and status (claims written before conditions were stored: none)."""
    out = []
    for c in claim.get("conditions") or []:
        if not c.get("core"):
            continue
        name, iv, status = c["name"], c.get("interval"), c.get("status")
        if status == "blocked" or c.get("blocked"):
            out.append(f"{name}: not judged ({c.get('blocked') or 'blocked'}).")
            continue
        if not iv:
            result = {"holds": "holds", "fails": "does not hold"}.get(status, status or "")
            out.append(f"{name}: {c.get('detail') or ''}, so it {result}.".replace(": , so", ": so"))
            continue
        side = "at or above" if c.get("above", True) else "at or below"
        where = (f"the 95% interval [{_number(iv['low'])}, {_number(iv['high'])}] over n={iv['n']}"
                 if iv.get("low") is not None and abs(iv["low"]) != float("inf") else f"n={iv['n']} (no interval)")
        verdict = {"holds": f"lies {side} {_number(c['threshold'])}: holds",
                   "fails": f"lies on the other side of {_number(c['threshold'])}: does not hold",
                   "straddles": f"includes {_number(c['threshold'])}: too wide to decide"}.get(status, status or "")
        out.append(f"{name}: {_number(iv['estimate'])}; {where} {verdict}.")
    return out


def run_of(claim: dict) -> str:
    """'commit 1a2b3c4 (clean tree)' of the run that wrote the claim, from its provenance."""
    commit = (claim.get("provenance") or {}).get("git_commit")
    if not commit or commit == "unknown":
        return "commit unknown (its tree's state unknown)"
    dirty = commit.endswith("+dirty")
    return f"commit {commit.removesuffix('+dirty')[:10]} ({'uncommitted changes' if dirty else 'clean tree'})"


def _summary(results: Path) -> dict:
    path = results / "summary.json"
    try:
        return json.loads(path.read_text()) if path.is_file() else {}
    except json.JSONDecodeError:
        return {}


def _environment(results: Path, profile) -> dict:
    summary = _summary(results)
    prov = summary.get("provenance") or provenance()
    ran = sum(r.get("seconds", 0) for r in summary.get("notebooks", []) if r.get("status") == "ok")
    return {"profile": getattr(profile, "name", str(profile)), "seeds": getattr(profile, "seeds", None),
            "device": prov.get("device"),
            "cpu": ", ".join(filter(None, [prov.get("cpu"), prov.get("cpu_capability")
                                           and f"torch CPU kernels {prov['cpu_capability']}"])), "git commit": prov.get("git_commit"), "python": prov.get("python"),
            "packages": prov.get("packages", {}), "notebooks": summary.get("notebooks", []),
            "wall time of this run (s)": summary.get("seconds"), "notebook time executed (s)": round(ran, 1)}


def render_markdown(results: Path, profile) -> str:
    rows, env = _rows(results), _environment(results, profile)
    counts = {v: sum(r["verdict"] == v for r in rows) for v in COLORS}
    out = [f"# mtlcore report — profile `{env['profile']}`", "",
           "Our numbers beside the papers'. Verdicts are computed by the notebooks from this run's results "
           "(`claims/*.json`); items without a notebook yet are listed as *not run*.", "",
           "Verdicts: " + ", ".join(f"{k} {v}" for k, v in counts.items()), "",
           "| item | what | paper | ours | verdict |", "|---|---|---|---|---|"]
    for r in rows:
        it, c = r["item"], r["claim"]
        ours = c["ours"] if c else "—"
        out.append(f"| {it.id} | {it.title} | {it.claim} | {ours} | **{r['verdict']}** |")
    for r in rows:
        c = r["claim"]
        if not c:
            continue
        out += ["", f"## {r['item'].id}: {r['item'].title}", "", f"*Paper:* {r['item'].claim}", "",
                f"*Ours:* {c['ours']}", ""] + ([f"*Why {r['verdict']}:* {c['reason']}", ""] if c.get("reason") else []) + (
                ["*In plain words:*", ""] + [f"- {w}" for w in plain_words(c)] + [""] if plain_words(c) else []) + [
                f"*Run:* {run_of(c)}", "", "Checks:"]
        out += [f"- {'✔' if ok else '✘'} {name}" for name, ok in c["checks"].items()]
        out += [""] + [f"![{a}]({a})" if a.endswith(".png") else f"- [{a}]({a})" for a in c.get("artefacts", [])]
        out += [f"- missing: {a} (listed by the notebook, not in the results folder)" for a in c.get("missing", [])]
    out += ["", "## Environment", "", f"- profile: {env['profile']}, seeds: {env['seeds']}",
            f"- device: {env['device']}" + (f" (CPU {env['cpu']})" if env['cpu'] else "") + f"; python {env['python']}; git {env['git commit']}",
            "- packages: " + ", ".join(f"{k} {v}" for k, v in env["packages"].items()),
            f"- wall time of the last pipeline run: {env['wall time of this run (s)']} s "
            f"(notebooks executed in it: {env['notebook time executed (s)']} s)", "",
            "| notebook | status | seconds | error |", "|---|---|---|---|"]
    out += [f"| {n['notebook']} | {n['status']} | {n['seconds']} | {n.get('error', '')} |" for n in env["notebooks"]]
    return "\n".join(out) + "\n"


def render_html(results: Path, profile) -> str:
    rows, env = _rows(results), _environment(results, profile)
    e = html.escape
    counts = {v: sum(r["verdict"] == v for r in rows) for v in COLORS}

    def badge(v: str) -> str:
        return f'<span class="badge" style="background:{COLORS[v]}">{e(v)}</span>'

    table = "".join(
        f"<tr><td><a href='#{r['item'].id}'>{r['item'].id}</a></td><td>{e(r['item'].title)}</td>"
        f"<td>{e(r['item'].claim)}</td><td>{e(r['claim']['ours']) if r['claim'] else '—'}</td>"
        f"<td>{badge(r['verdict'])}</td></tr>" for r in rows)
    sections = []
    for r in rows:
        it, c = r["item"], r["claim"]
        body = f"<p><b>Paper {it.paper}:</b> {e(it.claim)}</p>"
        if c:
            why = f"<p><b>Why {e(r['verdict'])}:</b> {e(c['reason'])}</p>" if c.get("reason") else ""
            words = plain_words(c)
            why += ("<p><b>In plain words:</b></p><ul>" + "".join(f"<li>{e(w)}</li>" for w in words) + "</ul>"
                    if words else "") + f"<p><b>Run:</b> {e(run_of(c))}</p>"
            body += f"<p><b>Ours:</b> {e(c['ours'])}</p>{why}<ul>" + "".join(
                f"<li>{'&#10004;' if ok else '&#10008;'} {e(name)}</li>" for name, ok in c["checks"].items()) + "</ul>"
            for a in c.get("artefacts", []):
                body += (f"<p><img src='{e(a)}' alt='{e(a)}'></p>" if a.endswith(".png")
                         else f"<p><a href='{e(a)}'>{e(a)}</a></p>")
            for a in c.get("missing", []):
                body += f"<p><i>missing: {e(a)} (listed by the notebook, not in the results folder)</i></p>"
        else:
            body += "<p><i>Not run: no notebook has produced this item yet.</i></p>"
        sections.append(f"<section id='{it.id}'><h2>{it.id}: {e(it.title)} {badge(r['verdict'])}</h2>{body}</section>")
    nb_rows = "".join(f"<tr><td>{e(n['notebook'])}</td><td>{e(n['status'])}</td><td>{n['seconds']}</td>"
                      f"<td>{e(n.get('error', ''))}</td></tr>" for n in env["notebooks"])
    packages = ", ".join(f"{e(k)} {e(str(v))}" for k, v in env["packages"].items())
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>mtlcore report ({e(env['profile'])})</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}}
table{{border-collapse:collapse;width:100%;font-size:14px}}td,th{{border:1px solid #ccc;padding:4px 6px;vertical-align:top}}
th{{background:#f3f3f3}}.badge{{color:white;padding:2px 8px;border-radius:10px;font-size:13px;white-space:nowrap}}
img{{max-width:100%;border:1px solid #ddd}}section{{margin-top:2em}}</style></head><body>
<h1>mtlcore report — profile <code>{e(env['profile'])}</code></h1>
<p>Our numbers beside the papers'. Each verdict is computed by its notebook from this run's results; items without a
notebook yet are listed as <i>not run</i>. Paper A: Explaining the Effectiveness of Multi-Task Learning for Efficient
Knowledge Extraction from Spine MRI Reports (and its C-spine predecessor). Paper B: Wu, Zhang &amp; R&eacute;,
Understanding and Improving Information Transfer in Multi-Task Learning (ICLR 2020).</p>
<p class="tally">Verdicts: {" ".join(f"{badge(v)} {n}" for v, n in counts.items())}</p>
<table><tr><th>item</th><th>what</th><th>paper</th><th>ours</th><th>verdict</th></tr>{table}</table>
{''.join(sections)}
<section id="environment"><h2>Environment</h2><ul><li>profile: {e(env['profile'])}, seeds: {e(str(env['seeds']))}</li>
<li>device: {e(str(env['device']))}{e(f" (CPU {env['cpu']})" if env['cpu'] else "")}; python {e(str(env['python']))}; git {e(str(env['git commit']))}</li>
<li>packages: {packages}</li><li>wall time of the last pipeline run: {env['wall time of this run (s)']} s
(notebooks executed in it: {env['notebook time executed (s)']} s)</li></ul>
<table><tr><th>notebook</th><th>status</th><th>seconds</th><th>error</th></tr>{nb_rows}</table></section>
</body></html>
"""


def write_report(results: str | Path, profile) -> tuple[Path, Path]:
    """Write `report.md` and `report.html` into `results`; returns their paths."""
    results = Path(results)
    md = atomic_write_text(results / "report.md", render_markdown(results, profile))
    page = atomic_write_text(results / "report.html", render_html(results, profile))
    return md, page
