# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's metadata agrees with itself: Galaxy, the execution environment, module_defaults groups."""
import pathlib
import re

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]


def load(name):
    return yaml.safe_load((REPO / name).read_text())


def pins(name):
    found = {}
    for line in (REPO / name).read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)", line.strip())
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def test_every_module_is_in_the_k8s_action_group():
    modules = sorted(p.stem for p in (REPO / "plugins" / "modules").glob("*.py"))
    group = load("meta/runtime.yml")["action_groups"]["k8s"]
    assert sorted(group) == modules


def test_execution_environment_uses_the_pinned_requirements():
    ee = load("execution-environment.yml")
    assert ee["dependencies"]["python"] == "requirements.txt"
    assert ee["dependencies"]["ansible_core"]["package_pip"] == "ansible-core==" + pins("requirements.txt")["ansible-core"]
    collections = {c["name"]: c.get("version") for c in ee["dependencies"]["galaxy"]["collections"]}
    assert collections["stateful.datastores"] == load("galaxy.yml")["version"]
    assert collections["kubernetes.core"] == load("galaxy.yml")["dependencies"]["kubernetes.core"]


def test_requirements_yml_matches_galaxy_dependencies():
    wanted = {c["name"]: c["version"] for c in load("requirements.yml")["collections"]}
    assert wanted == load("galaxy.yml")["dependencies"]


def test_every_requirement_is_pinned():
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (REPO / name).read_text().splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "-r")):
                assert "==" in line, "{}: {} is not pinned".format(name, line)
