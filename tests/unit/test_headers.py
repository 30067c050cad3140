# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every Python file of the collection carries the license line; modules also their interpreter line."""
import pathlib

REPO = pathlib.Path(__file__).resolve().parents[2]
LICENSE_LINE = "# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)"
SKIP = (".venv", ".build", ".git")


def python_files():
    for path in REPO.rglob("*.py"):
        parts = path.relative_to(REPO).parts
        if parts[0] not in SKIP and "__pycache__" not in parts and path.stat().st_size:
            yield path


def test_license_line_in_every_python_file():
    missing = [str(p.relative_to(REPO)) for p in python_files() if LICENSE_LINE not in p.read_text().splitlines()[:3]]
    assert not missing, missing


def test_modules_start_with_the_interpreter_line():
    for path in (REPO / "plugins" / "modules").glob("*.py"):
        assert path.read_text().startswith("#!/usr/bin/python\n"), path
