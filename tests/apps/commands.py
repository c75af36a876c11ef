"""The console apps as a user runs them: one process per command, offline, with Hydra overrides.

Each command runs the `main()` that its `esc-<app>` script calls, with the command's arguments in
sys.argv, in a process of its own that a fork server forks with the apps already imported. Importing
torch, transformers and Lightning takes about 9 s on a 2-core CI machine, so a fresh interpreter per
command cost most of `make test`; the forked process still starts from no state of the test's.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
from multiprocessing import forkserver
from multiprocessing.context import ForkServerContext
from pathlib import Path

METRICS_KEYS = {
    "task",
    "model",
    "data",
    "w_bits",
    "a_bits",
    "calibrator",
    "ptq",
    "ptq_order",
    "seed",
    "metric",
    "higher_is_better",
    "float",
    "quantized",
    "split",
    "n_test",
    "n_calib",
    "calib_seconds",
    "ptq_seconds",
    "fitness_evals",
    "fitness_init",
    "fitness_best",
    "table",
    "config_hash",
    "inputs_hash",
    "device",
    "git",
    "finished_at",
}


# esc-run's caches and the root it reuses finished runs from default to the project's outputs/: a test's
# run keeps them beside its own folder unless it names them.
RUN_STATE = ("float_cache", "ptq_cache", "es.checkpoint_dir", "reuse_from")


def own_run_state(run_dir: Path, overrides: tuple[str, ...]) -> list[str]:
    """Overrides that put each of esc-run's caches and its reuse root the test did not name under a folder
    beside `run_dir`, so that no test reads or writes the project's outputs/."""
    named = {override.split("=", 1)[0].lstrip("+~") for override in overrides}
    return [f"{key}={run_dir.parent / 'run_state' / key}" for key in RUN_STATE if key not in named]


APPS = ("data", "ranges", "run", "tables", "train")
APP_TIMEOUT_S = 600


def app_arguments(app: str, run_dir: Path, *overrides: str) -> list[str]:
    """`<overrides> hydra.run.dir=<run_dir>`; esc-run keeps its caches and reuse root out of the project
    (`own_run_state`)."""
    state = own_run_state(run_dir, overrides) if app == "run" else []
    return [*overrides, *state, f"hydra.run.dir={run_dir}"]


@functools.cache
def forked_apps() -> ForkServerContext:
    """multiprocessing's one fork server, started offline (the hub's switches are read at import) with every
    app imported, and the corpus builder's renderer, which the builder's workers fork from it with.
    conftest starts it before anything else can start it with less imported. Its processes get the
    environment the session started with: a test's `monkeypatch.setenv` does not reach them."""
    os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["esc.data.synth.render", *(f"esc.apps.{app}" for app in APPS)])
    forkserver.ensure_running()
    return context


def _run_main(app: str, arguments: list[str], stdout: str, stderr: str) -> None:
    """In the forked process: the app's output into the two files, and the exit code that its script
    would give (Hydra exits 1 on an error). It then ends as an interpreter does, which multiprocessing
    would not: threads' exit hooks first (they stop joblib's worker pool, which multiprocessing would
    otherwise wait 300 s for), then the atexit handlers."""
    for path, stream in ((stdout, sys.stdout), (stderr, sys.stderr)):
        with open(path, "wb") as file:
            os.dup2(file.fileno(), stream.fileno())
    sys.argv = [f"esc-{app}", *arguments]
    try:
        importlib.import_module(f"esc.apps.{app}").main()
    finally:
        threading._shutdown()
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()


def run_forked(app: str, arguments: list[str]) -> subprocess.CompletedProcess:
    """`esc-<app> <arguments>` with the hub switched off, in a process forked by `forked_apps`, its output
    captured."""
    with tempfile.TemporaryDirectory() as folder:
        stdout, stderr = Path(folder) / "stdout", Path(folder) / "stderr"
        stdout.touch()
        stderr.touch()
        process = forked_apps().Process(target=_run_main, args=(app, arguments, str(stdout), str(stderr)))
        process.start()
        process.join(APP_TIMEOUT_S)
        if process.exitcode is None:
            process.kill()
            process.join()
            raise subprocess.TimeoutExpired([f"esc-{app}", *arguments], APP_TIMEOUT_S)
        return subprocess.CompletedProcess(
            [f"esc-{app}", *arguments],
            process.exitcode,
            stdout.read_text(errors="replace"),
            stderr.read_text(errors="replace"),
        )


def run_app(app: str, run_dir: Path, *overrides: str) -> subprocess.CompletedProcess:
    """`esc-<app> <overrides> hydra.run.dir=<run_dir>`, as `run_forked` runs it."""
    return run_forked(app, app_arguments(app, run_dir, *overrides))


def esc_run(run_dir: Path, *overrides: str) -> subprocess.CompletedProcess:
    """One esc-run."""
    return run_app("run", run_dir, *overrides)
