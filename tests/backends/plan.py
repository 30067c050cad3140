# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pods each system will have, derived from an inventory's variables and the roles' defaults."""
import pathlib

import yaml

from ansible_collections.stateful.datastores.plugins.module_utils.antidote.topology import topology

REPO = pathlib.Path(__file__).resolve().parents[2]


def _yaml(path):
    return yaml.safe_load(path.read_text()) or {} if path.exists() else {}


def inventory_vars(inventory):
    """Role defaults overlaid with the inventory's group_vars/all (plain values only)."""
    values = {}
    for role in ("antidote", "elasticsearch", "hazelcast", "atomix"):
        values.update(_yaml(REPO / "roles" / role / "defaults" / "main.yml"))
    group_vars = pathlib.Path(inventory) / "group_vars" / "all"
    for path in sorted(group_vars.glob("*.yml")) if group_vars.is_dir() else [group_vars.with_suffix(".yml")]:
        values.update(_yaml(path))
    return values


def antidote_pods(values):
    """[(dc name, [(pod, erlang node name)])] in DC order."""
    dcs = topology(values["antidote_datacenters"], values["antidote_replicas"], values["antidote_ring_size"],
                   values["antidote_name_prefix"])
    return [(dc["name"], list(zip(dc["pods"], dc["nodes"]))) for dc in dcs]


def stateful_pods(values, system):
    return ["{}-{}".format(values[system + "_name"], index) for index in range(int(values[system + "_replicas"]))]
