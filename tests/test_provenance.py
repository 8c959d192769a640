"""git_commit: '+dirty' for changed code, not for the results a run writes."""
from __future__ import annotations

import subprocess

from mtlcore.provenance import git_commit


def _git(repo, *args):
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def test_dirty_means_changed_code_not_written_results(tmp_path):
    _git(tmp_path, "init", "-q")
    (tmp_path / "results").mkdir()
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / "results" / "table.csv").write_text("a\n1\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c")
    clean = git_commit(tmp_path)
    assert len(clean) == 40 and not clean.endswith("+dirty")
    (tmp_path / "results" / "table.csv").write_text("a\n2\n")          # a run rewrote its results
    assert git_commit(tmp_path) == clean
    (tmp_path / "code.py").write_text("x = 2\n")                        # the code changed
    assert git_commit(tmp_path) == clean + "+dirty"
    assert git_commit(tmp_path / "nowhere") == "unknown"


def test_provenance_names_the_cpu_and_the_instruction_set_torch_dispatches_to():
    """Training numbers repeat bit for bit only on the same CPU capability (docs/usage.md): provenance records
    the one torch chose, which ATEN_CPU_CAPABILITY can lower (here to the portable kernels)."""
    import json
    import os
    import sys

    code = "import json; from mtlcore.provenance import provenance; print(json.dumps(provenance()))"
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "default"}
    prov = json.loads(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                     check=True).stdout.strip().splitlines()[-1])
    assert prov["cpu_capability"] == "DEFAULT"
    assert isinstance(prov["cpu"], str) and prov["threads"] >= 1
    if os.path.isfile("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        assert prov["cpu"] == (names[0] if names else prov["cpu"])
