# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""wait_ready's objects and k8s_apply's wait_for are documented twice (ansible-test wants literal docs): same text."""
import yaml

from ansible_collections.stateful.datastores.plugins.doc_fragments.wait_objects import ModuleDocFragment
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.wait import WAIT_OBJECT_SPEC


def suboptions(fragment, option):
    text = yaml.safe_load(fragment)["options"][option]["suboptions"]
    return yaml.safe_dump(text).replace(option + "[]", "OPTION[]")


def test_both_options_document_the_same_entries():
    assert suboptions(ModuleDocFragment.OBJECTS, "objects") == suboptions(ModuleDocFragment.WAIT_FOR, "wait_for")


def test_the_documented_entries_are_the_argument_spec():
    documented = yaml.safe_load(ModuleDocFragment.OBJECTS)["options"]["objects"]["suboptions"]
    assert set(documented) == set(WAIT_OBJECT_SPEC)
    for name, spec in WAIT_OBJECT_SPEC.items():
        assert documented[name]["type"] == spec["type"], name
        assert set(documented[name].get("suboptions", {})) == set(spec.get("options", {})), name
