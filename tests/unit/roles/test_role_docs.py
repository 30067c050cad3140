# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each role's defaults, argument specs and README variable table name the same variables."""
import pathlib
import re

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[3]
ROLES = ["antidote", "hazelcast", "loklak", "minikube", "storage_class"]


def load(role, path):
    return yaml.safe_load((REPO / "roles" / role / path).read_text())


def readme_table(role):
    """{variable: default as written} from the README's `| Variable | Default | ...` table."""
    rows, in_section = {}, False
    for line in (REPO / "roles" / role / "README.md").read_text().splitlines():
        if line.startswith("## "):
            in_section = line.strip() == "## Variables"
        match = re.match(r"^\| `(\w+)` \| (.*?) \|", line)
        if in_section and match:
            rows[match.group(1)] = match.group(2)
    assert rows, "no variable table under '## Variables' in roles/{}/README.md".format(role)
    return rows


@pytest.mark.parametrize("role", ROLES)
def test_every_variable_is_in_defaults_specs_and_readme(role):
    defaults = load(role, "defaults/main.yml")
    options = load(role, "meta/argument_specs.yml")["argument_specs"]["main"]["options"]

    assert set(options) == set(defaults)
    assert set(readme_table(role)) == set(defaults)
    assert all(name.startswith(role + "_") for name in defaults)


@pytest.mark.parametrize("role", ROLES)
def test_spec_defaults_match_role_defaults(role):
    defaults = load(role, "defaults/main.yml")
    options = load(role, "meta/argument_specs.yml")["argument_specs"]["main"]["options"]

    for name, spec in options.items():
        assert spec.get("default") == defaults[name], name
        assert spec.get("description"), name
        if "choices" in spec:
            assert defaults[name] in spec["choices"], name


@pytest.mark.parametrize("role", ROLES)
def test_readme_defaults_match_role_defaults(role):
    defaults = load(role, "defaults/main.yml")

    for name, shown in readme_table(role).items():
        value = defaults[name]
        expected = "`{}`".format(yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("\n...")
                                 .removesuffix("..."))
        if value == "":
            expected = '`""`'
        elif value is None:
            expected = "`null`"
        elif isinstance(value, str):
            expected = "`{}`".format(value)
        assert shown == expected, (name, shown, expected)
