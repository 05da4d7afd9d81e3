"""The README's first command works as written (CI runs the second one)."""

import os
import shlex
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def setup_commands():
    """Commands of the README's first code block, without the pip install steps."""
    block = README.read_text().split("```bash\n", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.strip().splitlines():
        line = line.split("#", 1)[0]
        for part in line.split("&&"):
            words = shlex.split(part)
            if words and words[0] != "pip":
                commands.append(words)
    return commands


def test_readme_starts_with_the_two_setup_commands():
    commands = setup_commands()
    assert [c[0] for c in commands] == ["gridcoherence", "pytest"]


def test_ci_runs_the_readme_test_command():
    readme_line = README.read_text().split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()[1]
    ci_lines = [line.strip() for line in (README.parent / ".ci" / "run").read_text().splitlines()]
    assert readme_line.strip() in ci_lines


def test_main_job_command_runs(tmp_path):
    command = setup_commands()[0]
    env = dict(os.environ, MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-m", "gridcoherence", *command[1:]], cwd=tmp_path,
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    out = tmp_path / command[command.index("--out") + 1]
    assert (out / "step_comparison.md").stat().st_size > 0
    assert (out / "reduced_model.json").stat().st_size > 0
