"""Repository rules that a test can hold: the README's two commands, CI running the same one, ruff clean."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _quickstart_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section, flags=re.S)


def test_readme_quickstart_has_exactly_two_commands_install_demo_and_tests():
    commands = _quickstart_commands()
    assert commands == [
        "python -m pip install -e . && retain demo",
        "python -m pip install -e '.[test]' && python -m pytest",
    ]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    match = re.search(r'^TEST_COMMAND="(.+)"$', ci, flags=re.M)
    assert match is not None
    assert match.group(1) == _quickstart_commands()[1]


def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    result = subprocess.run([ruff, "check", "src", "tests"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_docs_profile_is_the_profile_spec():
    """docs/profile.md is generated from the profile spec; regenerate it with
    ``python -c "from retain.contract.profile import PROFILE as P; open('docs/profile.md','w').write(P.markdown())"``.
    """
    from retain.contract.profile import PROFILE

    assert (ROOT / "docs" / "profile.md").read_text() == PROFILE.markdown()
