"""Every config in conf/ composes and resolves, so a broken file fails here and not in a user's sweep."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf

from esc.config import CONFIG_DIR, PROJECT_ROOT

CONF = Path(CONFIG_DIR)
GROUP_ROOTS = {"corpus": "data"}  # groups composed under a root other than run.yaml
PLUGIN_LAUNCHERS = ["basic", "joblib", "submitit_local", "submitit_slurm"]
ROOTS = sorted(p.stem for p in CONF.glob("*.yaml"))


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


def group_options() -> list[tuple[str, str]]:
    """(group, option) for every config file below conf/ except Hydra's own groups."""
    files = [p.relative_to(CONF) for p in CONF.rglob("*.yaml") if p.parent != CONF]
    return sorted((str(f.parent), f.stem) for f in files if f.parts[0] != "hydra")


def compose_config(root: str, overrides: list[str], hydra: bool = False) -> DictConfig:
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose(config_name=root, overrides=overrides, return_hydra_config=hydra)


def resolved(cfg: DictConfig) -> dict:
    return OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)


@pytest.mark.parametrize("root", ROOTS)
def test_every_root_composes_and_resolves(root):
    assert resolved(compose_config(root, []))


@pytest.mark.parametrize(("group", "option"), group_options())
def test_every_group_option_composes_and_resolves(group, option):
    cfg = compose_config(GROUP_ROOTS.get(group, "run"), [f"{group}={option}"])
    assert resolved(cfg)


@pytest.mark.parametrize(
    "model",
    [m for m in options("model") if "architecture" in OmegaConf.load(CONF / "model" / f"{m}.yaml").model],
)
def test_every_embedded_model_composes_under_train(model):
    assert resolved(compose_config("train", [f"model={model}"]))["model"]["name"] == model


@pytest.mark.parametrize("launcher", sorted({*PLUGIN_LAUNCHERS, *options("hydra/launcher")}))
def test_every_launcher_composes_with_a_target(launcher):
    cfg = compose_config("run", [f"hydra/launcher={launcher}"], hydra=True)
    assert resolved(cfg.hydra.launcher)["_target_"].startswith("hydra")


def sweep_points(experiment: str) -> list[str]:
    """One override per value of each axis that the experiment's hydra.sweeper.params sweeps."""
    params = compose_config("run", [f"experiment={experiment}"], hydra=True).hydra.sweeper.params
    parsed = OverridesParser.create().parse_overrides([f"{key}={value}" for key, value in params.items()])
    return [f"{o.key_or_group}={value}" for o in parsed for value in o.sweep_string_iterator()]


@pytest.mark.parametrize("experiment", options("experiment"))
def test_every_sweep_point_of_every_experiment_composes_and_resolves(experiment):
    points = sweep_points(experiment)
    assert points, "an experiment sweeps at least one axis"
    for point in points:
        cfg = compose_config("run", [f"experiment={experiment}", point])
        assert resolved(cfg)["table"] == experiment, point


@pytest.mark.parametrize(("table", "setting"), OmegaConf.load(CONF / "tables.yaml").ablations.items())
def test_every_ablation_table_names_a_setting_its_experiment_sweeps(table, setting):
    assert any(point.startswith(f"{setting}=") for point in sweep_points(table))


@pytest.mark.parametrize("root", ROOTS)
def test_every_app_writes_its_runs_under_the_checkouts_outputs_from_any_cwd(root):
    # reuse_from, float_cache and esc-tables look in <checkout>/outputs: runs started elsewhere go there too.
    hydra = compose_config(root, [], hydra=True).hydra
    folders = [hydra.run.dir] + ([hydra.sweep.dir] if root == "run" else [])
    assert all(Path(folder).is_relative_to(PROJECT_ROOT / "outputs") for folder in folders)
