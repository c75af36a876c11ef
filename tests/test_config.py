"""The shared OmegaConf resolvers and the plain-dict view of optional config mappings."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from esc.config import CONFIG_DIR, PROJECT_ROOT, plain_options, register_resolvers


def test_project_root_is_the_checkout_that_holds_the_package_and_its_configs() -> None:
    assert (PROJECT_ROOT / "esc" / "config.py").is_file()
    assert Path(CONFIG_DIR) == PROJECT_ROOT / "conf"
    assert (Path(CONFIG_DIR) / "run.yaml").is_file()


def test_project_root_resolver_gives_the_checkout_from_any_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = OmegaConf.create({"results": "${project_root:}/results"})
    assert cfg.results == f"{PROJECT_ROOT}/results"


def test_registering_the_resolvers_again_keeps_them_working() -> None:
    register_resolvers()
    register_resolvers()
    assert OmegaConf.create({"root": "${project_root:}"}).root == str(PROJECT_ROOT)


def test_no_options_mapping_gives_no_keyword_arguments() -> None:
    assert plain_options(None) == {}


def test_options_become_a_plain_nested_dict_with_interpolations_resolved() -> None:
    cfg = OmegaConf.create(
        {
            "unknown": "_unknown_",
            "options": {"unknown_label": "${unknown}", "label_map": {"yes": "affirmative"}},
        }
    )
    options = plain_options(cfg.options)
    assert options == {"unknown_label": "_unknown_", "label_map": {"yes": "affirmative"}}
    assert type(options) is dict and type(options["label_map"]) is dict
