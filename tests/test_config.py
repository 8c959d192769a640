import pytest

from mtlcore.training.config import ConfigError, TrainConfig
from mtlcore.training.weighting import FixedWeighting, make_weighting
import torch


def test_yaml_round_trip(tmp_path):
    cfg = TrainConfig(tasks="glue/rte, glue/mrpc", mode="stl", max_train=10, weighting="fixed", task_weights={"glue/rte": 2.0, "glue/mrpc": 1.0})
    assert cfg.tasks == ["glue/rte", "glue/mrpc"]
    cfg.to_yaml(tmp_path / "c.yaml")
    assert TrainConfig.from_yaml(tmp_path / "c.yaml") == cfg


def test_unknown_field_names_file_and_field(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("tasks: [glue/rte]\nlearning_rate: 0.1\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: unknown field\(s\) \['learning_rate'\]"):
        TrainConfig.from_yaml(p)


@pytest.mark.parametrize("field, value", [("max_train", 0), ("epochs", 0), ("mode", "both"), ("pooling", "max"),
                                          ("tasks", []), ("sampling", "random"), ("lr", -1.0)])
def test_invalid_values_name_the_field(field, value):
    with pytest.raises(ConfigError, match=field if field != "tasks" else "at least one task"):
        TrainConfig(**{field: value})


def test_fixed_weighting_normalises_to_mean_one():
    w = make_weighting("fixed", ["a", "b"], {"a": 3.0, "b": 1.0})
    assert w.weights() == {"a": 1.5, "b": 0.5}
    loss = w.combine({"a": torch.tensor(2.0)})
    assert loss.item() == 3.0
    with pytest.raises(ValueError, match="missing"):
        FixedWeighting(["a", "b"], {"a": 1.0})
    with pytest.raises(ValueError, match="unknown weighting"):
        make_weighting("gradnorm2", ["a"])


def test_unknown_field_in_a_config_file_suggests_the_closest_field(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("tasks: [glue/rte]\nmax_trian: 10\nepochz: 2\n")
    with pytest.raises(ConfigError, match=r"did you mean 'epochs' for 'epochz'\?; did you mean 'max_train' for "
                                          r"'max_trian'\?"):
        TrainConfig.from_yaml(p)


def test_the_command_line_parses_and_explains_without_importing_torch():
    """`python -m mtlcore ... --help` answers at once: torch, pandas and scipy are imported after parsing."""
    import subprocess
    import sys

    code = ("import sys\nfrom mtlcore.__main__ import _parser\n_parser().format_help()\n"
            "sub = _parser()._subparsers._group_actions[0].choices\n[sub[c].format_help() for c in sub]\n"
            "print(sorted(m for m in ('torch', 'pandas', 'scipy.stats') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr
