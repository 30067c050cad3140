# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filters the antidote role validates and names its DCs with."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.stateful.datastores.plugins.filter.antidote import FilterModule

FILTERS = FilterModule().filters()


def test_problems_filter_returns_sentences_and_nothing_for_valid_input():
    problems = FILTERS["antidote_topology_problems"]
    assert problems([{"name": "dc1"}, {"name": "dc2"}], 3, 16) == []
    found = problems([{"name": "dc1"}, {"name": "dc1"}], 3, 12)
    assert len(found) == 2 and found[0].startswith("antidote_ring_size") and "used 2 times" in found[1]


def test_topology_filter_names_everything_and_refuses_invalid_input():
    topology = FILTERS["antidote_topology"]
    (dc,) = topology([{"name": "eu"}], 2, 16, "shop")
    assert (dc["statefulset"], dc["client_service"], dc["nodes"][1]) == (
        "shop-eu", "shop-eu-client", "antidote@shop-eu-1.shop-eu")
    with pytest.raises(AnsibleFilterError, match="invalid antidote_datacenters: .*DNS-1123"):
        topology([{"name": "EU"}])
