# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/atomix: defaults, argument specs and the README's variable table agree."""
import pathlib
import re

import yaml

ROLE = pathlib.Path(__file__).resolve().parents[3] / "roles" / "atomix"


def load(path):
    return yaml.safe_load((ROLE / path).read_text())


def readme_table():
    rows, in_section = {}, False
    for line in (ROLE / "README.md").read_text().splitlines():
        if line.startswith("## "):
            in_section = line.strip() == "## Variables"
        match = re.match(r"^\| `(\w+)` \| (.*?) \| (.*?) \|", line)
        if in_section and match:
            rows[match.group(1)] = (match.group(2), match.group(3))
    return rows


def shown(value):
    if value == "":
        return '`""`'
    if value is None:
        return "`null`"
    if isinstance(value, str):
        return "`{}`".format(value)
    return "`{}`".format(yaml.safe_dump(value, default_flow_style=True, width=10000).strip()
                         .removesuffix("\n...").removesuffix("..."))


def test_defaults_specs_and_readme_name_the_same_variables():
    defaults = load("defaults/main.yml")
    options = load("meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    table = readme_table()

    assert list(options) == list(defaults)
    assert list(table) == list(defaults)
    assert all(name.startswith("atomix_") for name in defaults)


def test_defaults_agree_everywhere():
    defaults = load("defaults/main.yml")
    options = load("meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    table = readme_table()

    for name, spec in options.items():
        assert spec.get("default") == defaults[name], name
        assert spec.get("description"), name
        assert table[name][0] == shown(defaults[name]), name
        kind = table[name][1].split(":")[0]
        assert kind == spec.get("type", "str"), name
        if "choices" in spec:
            assert defaults[name] in spec["choices"], name
            assert table[name][1] == "{}: {}".format(kind, ", ".join("`{}`".format(c) for c in spec["choices"])), name


def test_every_default_is_documented_beside_its_value():
    lines = (ROLE / "defaults" / "main.yml").read_text().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^atomix_\w+:", line):
            above = lines[i - 1] if i else ""
            assert above.startswith("#") or re.match(r"^atomix_\w+:", above), line
