"""OmegaConf resolvers shared by every Hydra app, registered once on import."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = str(PROJECT_ROOT / "conf")


def register_resolvers() -> None:
    """`${project_root:}` lets configs default to folders inside the checkout, from any cwd."""
    if not OmegaConf.has_resolver("project_root"):
        OmegaConf.register_new_resolver("project_root", lambda: str(PROJECT_ROOT))


register_resolvers()


def group_options(group: str) -> dict[str, DictConfig]:
    """Each option of a config group (conf/<group>/*.yaml) by name, unresolved: for naming the options
    that fit when a chosen one does not."""
    return {path.stem: OmegaConf.load(path) for path in sorted((Path(CONFIG_DIR) / group).glob("*.yaml"))}


def is_whole_number(value: object) -> bool:
    """Whether a config value is an integer (not a bool): a count such as `es.budget=1e3` reaches the code
    as the float 1000.0, which `range` and slicing refuse only when they meet it, maybe minutes in."""
    return isinstance(value, int) and not isinstance(value, bool)


def plain_options(node: DictConfig | None) -> dict:
    """An optional config mapping as a plain dict, for passing on as keyword arguments."""
    return {} if node is None else OmegaConf.to_container(node, resolve=True)
