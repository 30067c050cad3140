# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report role: one line per deployed part, healthy only when the facts the roles returned say so."""
import copy

import pytest

PLAYBOOK = """\
- hosts: localhost
  gather_facts: false
  roles:
    - role: stateful.datastores.report
"""

FACTS = {
    "antidote_dcs": {
        "dc1": {"members": 2, "dc_count": 2, "endpoints": {"client": "antidote-dc1-client.antidote.svc:8087"}},
        "dc2": {"members": 2, "dc_count": 2, "endpoints": {"client": "antidote-dc2-client.antidote.svc:8087"}},
    },
    "hazelcast_cluster": {"name": "hazelcast", "size": 3, "version": "5.7.0", "healthy": True,
                          "endpoint": "hazelcast.hazelcast.svc.cluster.local:5701"},
    "atomix_status": {
        "generation": "v1", "namespace": "atomix",
        "database": {"kind": "RaftStore", "name": "raft", "ready": True},
        "partitions": [{"name": "raft-1", "ready": True}],
        "statefulsets": [{"name": "raft", "replicas": 3, "ready_replicas": 3}],
        "services": [{"name": "raft", "cluster_ip": "10.96.0.10", "ports": [5678, 5679]},
                     {"name": "raft-hs", "cluster_ip": "None", "ports": [5678, 5679]}],
    },
}


@pytest.fixture
def report(tmp_path, playbook_runner):
    def run(facts):
        playbook = tmp_path / "report.yml"
        playbook.write_text(PLAYBOOK)
        outcome = playbook_runner(playbook, facts)
        assert not outcome.failed, outcome.describe()
        return outcome.result("Print what is deployed, where to connect and whether it is healthy")["msg"]
    return run


def line(lines, system):
    found = [text for text in lines if system in text]
    assert len(found) == 1, lines
    return found[0].split()


def test_healthy_parts_and_where_to_connect(report):
    lines = report(FACTS)
    assert len(lines) == 4
    assert line(lines, "dc1") == ["healthy", "AntidoteDB", "DC", "dc1", "2", "nodes,", "sees", "2", "DCs",
                                  "antidote-dc1-client.antidote.svc:8087"]
    assert line(lines, "Hazelcast")[0] == "healthy"
    assert line(lines, "Atomix") == ["healthy", "Atomix", "v1", "atomix", "1", "StatefulSet(s),", "1", "partition(s)",
                                     "raft.atomix.svc:5678"]


@pytest.mark.parametrize("change, system, verdict", [
    (lambda f: f["antidote_dcs"]["dc2"].update(dc_count=1), "dc2", "NOT"),
    (lambda f: f["hazelcast_cluster"].update(healthy=False), "Hazelcast", "UNHEALTHY"),
    (lambda f: f["atomix_status"]["database"].update(ready=False), "Atomix", "NOT"),
    (lambda f: f["atomix_status"]["partitions"][0].update(ready=False), "Atomix", "NOT"),
])
def test_an_unhealthy_part_is_reported_as_such(report, change, system, verdict):
    facts = copy.deepcopy(FACTS)
    change(facts)
    assert line(report(facts), system)[0] == verdict


def test_nothing_deployed(report):
    assert report({}) == ["Nothing deployed in this run."]


def test_loklak_shows_the_marker_found_through_search(report):
    app = {"name": "loklak", "ready_replicas": 1, "endpoint": "http://loklak.loklak.svc:80", "healthy": True,
           "verified": True, "marker": {"word": "sdverify0123456789ab", "pushed": False}}
    assert line(report({"loklak_app": app}), "loklak") == [
        "healthy", "loklak", "loklak", "1", "ready,", "marker", "found", "by", "search", "http://loklak.loklak.svc:80"]
    unverified = dict(app, verified=False, healthy=False)
    assert line(report({"loklak_app": unverified}), "loklak") == [
        "UNHEALTHY", "loklak", "loklak", "1", "ready", "http://loklak.loklak.svc:80"]
