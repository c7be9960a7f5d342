"""The package's layout keeps its promises: the app never loads the benchmark harness."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Each test starts a fresh interpreter (torch and all) to see what a run really imports.
pytestmark = pytest.mark.slow

LIVE_RUN = """
import sys
from livestyle.cli import main
code = main(["live", "--headless", "--source", "demo", "--max-frames", "3", "--width", "64",
             "--height", "48"])
print(sorted(m for m in sys.modules if m.startswith("livestyle.bench")))
sys.exit(code)
"""


def test_a_live_run_never_imports_the_bench_harness() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LIVE_RUN], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_bench_command_loads_it_when_it_runs() -> None:
    code = (
        "import sys; from livestyle.cli import main; "
        "main(['bench', '--device', 'cpu', '--sizes', '16x12', '--runs', '1', '--warmup', '0', "
        "'--infer-sizes', 'none', '--pipeline-seconds', '0']); "
        "print('livestyle.bench.harness' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "True"
