"""The installed `esc-<app>` scripts call the `main()` that the app tests run in their forked processes."""

from importlib.metadata import entry_points

from tests.apps.commands import APPS


def test_each_console_script_runs_its_apps_main():
    scripts = {script.name: script.value for script in entry_points(group="console_scripts")}
    ours = {name: target for name, target in scripts.items() if name.startswith("esc-")}
    assert ours == {f"esc-{app}": f"esc.apps.{app}:main" for app in APPS}
