# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every variable an inventory sets is one a role declares, so a typo cannot pass unnoticed."""
import pathlib

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (REPO / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists())
PLAYBOOK_VARIABLES = {"datastores_systems", "datastores_minikube", "datastores_storage_class"}


def declared(role):
    specs = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text())
    return set(specs["argument_specs"]["main"].get("options") or {})


@pytest.mark.parametrize("inventory", ["local", "local_real", "minikube", "gke"])
def test_inventory_variables_are_declared(inventory):
    values = {}
    for path in (REPO / "inventories" / inventory / "group_vars" / "all").glob("*.yml"):
        values.update(yaml.safe_load(path.read_text()))
    unknown = []
    for name in values:
        if name in PLAYBOOK_VARIABLES:
            continue
        owners = [role for role in ROLES if name.startswith(role + "_")]
        if not owners or not any(name in declared(role) for role in owners):
            unknown.append(name)
    assert not unknown, "{}: not declared by any role: {}".format(inventory, unknown)
    assert set(values.get("datastores_systems", [])) <= {"antidote", "elasticsearch", "loklak", "hazelcast", "atomix"}
