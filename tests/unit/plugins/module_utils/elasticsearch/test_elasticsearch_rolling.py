# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/elasticsearch/rolling.py (restart.py, scale_down.py, node_preparation.py): the order of admin
calls and pod deletions, step by step.

The Elasticsearch side is a REST-level fake (FakeEs) behind the real ElasticsearchClient, so every
call goes through the client code the module uses; Kubernetes is an in-memory StatefulSet whose
deleted pods come back at once. The same flows run against real OpenSearch nodes in
tests/integration/elasticsearch/test_elasticsearch_role.py; what only Elasticsearch >= 7.15.2 has (the
node shutdown API) is covered here alone."""
import copy
import itertools
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch.client import ElasticsearchClient
from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch.k8s import (
    CONNECTION_SPEC,
    REVISION_LABEL,
)
from ansible_collections.stateful.datastores.plugins.module_utils.elasticsearch.rolling import (
    ROLLING_SPEC,
    RollingError,
    for_action,
    validate,
)
from tests.fakes import kube as fake

NS, NAME = "db", "es"
STS_PATH = "/apis/apps/v1/namespaces/%s/statefulsets/%s" % (NS, NAME)
UIDS = itertools.count(1)


class FakeEs:
    """Answers the REST calls of the module like one cluster; ``log`` records (pod asked, call)."""

    def __init__(self, nodes, version="8.19.21", distribution=None, master="es-1"):
        self.nodes = list(nodes)
        self.version = {"number": version}
        if distribution:
            self.version["distribution"] = distribution
        self.master = master
        self.persistent = {}
        self.voting = []
        self.shutdowns = {}
        self.recovering = set()  # restarted nodes whose replicas wait for allocation / the shutdown record
        self.yellow = False
        self.stuck_shards = False
        self.shards = [{"index": "messages", "shard": "0", "prirep": p, "state": "STARTED", "node": n}
                       for p, n in (("p", "es-0"), ("r", "es-2"))]
        self.log = []

    def node_id(self, name):
        return "id-" + name

    def status(self):
        return "yellow" if self.yellow or self.recovering else "green"

    def restarted(self, name):
        """Kubernetes deleted the pod: the node comes back; its replicas wait until preparation is undone."""
        if self.persistent.get("cluster.routing.allocation.enable") == "primaries" or self.node_id(name) in self.shutdowns:
            self.recovering.add(name)

    def removed(self, name):
        self.nodes.remove(name)

    def transport(self, pod):
        def call(method, target, body, headers, timeout):
            parts = urlsplit(target)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            data = json.loads(body) if body else None
            if pod not in self.nodes:
                raise ConnectionRefusedError("connection refused")
            self.log.append((pod, method, parts.path, query, data))
            status, answer = self.answer(pod, method, parts.path, query, data)
            return status, json.dumps(answer).encode()
        return call

    def answer(self, pod, method, path, query, data):
        key = "%s %s" % (method, path)
        if key == "GET /":
            return 200, {"name": pod, "cluster_name": "es", "cluster_uuid": "uuid-main", "version": self.version}
        if key == "GET /_cluster/health":
            body = {"cluster_name": "es", "status": self.status(), "number_of_nodes": len(self.nodes),
                    "number_of_data_nodes": len(self.nodes), "relocating_shards": 0, "initializing_shards": 0,
                    "unassigned_shards": 1 if self.status() != "green" else 0, "timed_out": False}
            wanted_nodes = query.get("wait_for_nodes")
            wanted_status = query.get("wait_for_status")
            if (wanted_nodes and int(wanted_nodes) != len(self.nodes)) or (
                    wanted_status == "green" and self.status() != "green"):
                body["timed_out"] = True
                return 408, body
            return 200, body
        if key == "GET /_nodes":
            return 200, {"nodes": {self.node_id(n): {"name": n} for n in self.nodes}}
        if key == "GET /_cat/nodes":
            return 200, [{"name": n, "master": "*" if n == self.master else "-"} for n in self.nodes]
        if key == "GET /_cluster/settings":
            return 200, {"persistent": dict(self.persistent), "transient": {}}
        if key == "PUT /_cluster/settings":
            for name, value in (data.get("persistent") or {}).items():
                if value is None:
                    self.persistent.pop(name, None)
                else:
                    self.persistent[name] = value
            if self.persistent.get("cluster.routing.allocation.enable") is None:
                self.recovering -= {n for n in self.recovering if self.node_id(n) not in self.shutdowns}
            excluded = (self.persistent.get("cluster.routing.allocation.exclude._name") or "").split(",")
            if not self.stuck_shards:
                for shard in self.shards:
                    if shard["node"] in excluded:
                        shard["node"] = "es-1"
            return 200, {"acknowledged": True}
        if key == "POST /_flush":
            return 200, {"_shards": {"total": 2, "successful": 2, "failed": 0}}
        if path.startswith("/_nodes/") and path.endswith("/shutdown"):
            node_id = path.split("/")[2]
            if method == "PUT":
                self.shutdowns[node_id] = dict(data, node_id=node_id)
                return 200, {"acknowledged": True}
            if method == "DELETE":
                found = self.shutdowns.pop(node_id, None)
                self.recovering -= {n for n in self.recovering if self.node_id(n) == node_id}
                return (200, {"acknowledged": True}) if found else (404, {"error": "none"})
            return 200, {"nodes": [dict(v, type=v["type"].upper()) for v in self.shutdowns.values()]}
        if key == "GET /_cluster/state/metadata":
            return 200, {"metadata": {"cluster_coordination": {"voting_config_exclusions": [
                {"node_id": self.node_id(n), "node_name": n} for n in self.voting]}}}
        if key == "POST /_cluster/voting_config_exclusions":
            self.voting += query["node_names"].split(",")
            return 200, {}
        if key == "DELETE /_cluster/voting_config_exclusions":
            self.voting = []
            return 200, {}
        if key == "GET /_cat/shards":
            return 200, copy.deepcopy(self.shards)
        if key == "GET /_cluster/allocation/explain":
            return 200, {"index": "messages", "shard": 0, "primary": False, "can_allocate": "no",
                         "unassigned_info": {"reason": "NODE_LEFT"}, "allocate_explanation": "allocation is disabled"}
        if key == "POST /_cluster/allocation/explain":
            return 200, {"index": data["index"], "explanation": "cannot move: no other node may hold the copy"}
        raise AssertionError("the fake does not know %s" % key)

    def calls(self, changing_only=True):
        """(pod asked, 'METHOD /path') of every call, or of the calls that change something."""
        return [(pod, "%s %s" % (method, path)) for pod, method, path, _q, _d in self.log
                if not changing_only or method != "GET"]


class FakeKube(fake.FakeKube):
    """A StatefulSet of OnDelete pods: a deleted pod comes back at once with a new uid at the update revision."""

    def __init__(self, es, replicas=3, revisions=None, replacement_ready=True):
        super(FakeKube, self).__init__({STS_PATH: {
            "metadata": {"name": NAME, "namespace": NS, "generation": 2},
            "spec": {"replicas": replicas, "serviceName": NAME + "-headless",
                     "selector": {"matchLabels": {"app": "es"}},
                     "volumeClaimTemplates": [{"metadata": {"name": "data"}}]},
            "status": {"observedGeneration": 2, "updateRevision": "es-new"}}})
        self.es = es
        self.sts = self.objects[STS_PATH]
        self.pods = self.named("/api/v1/namespaces/%s/pods" % NS)
        for i in range(replicas):
            self.pods["%s-%d" % (NAME, i)] = self.pod("%s-%d" % (NAME, i), (revisions or {}).get(i, "es-old"))
        self.replacement_ready = replacement_ready

    @staticmethod
    def pod(name, revision, ready=True):
        return {"metadata": {"name": name, "uid": "uid-%d" % next(UIDS), "labels": {REVISION_LABEL: revision}},
                "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}

    def request(self, method, path, query=None, body=None, content_type=None, **options):
        if method == "DELETE":
            super(FakeKube, self).request(method, path, query, body)
            name = path.rsplit("/", 1)[1]
            self.es.log.append(("k8s", "DELETE", "pod/" + name, {}, None))
            self.pods[name] = self.pod(name, self.sts["status"]["updateRevision"], self.replacement_ready)
            self.es.restarted(name)
            return {}
        if method == "PATCH" and path == STS_PATH + "/scale":
            replicas = body["spec"]["replicas"]
            self.es.log.append(("k8s", "PATCH", "scale/%d" % replicas, {}, None))
            assert content_type == "application/merge-patch+json"
            for name in list(self.pods):
                if int(name.rsplit("-", 1)[1]) >= replicas:
                    del self.pods[name]
                    self.es.removed(name)
            self.sts["spec"]["replicas"] = replicas
            return {}
        return super(FakeKube, self).request(method, path, query, body, **options)


class FakePodSet:
    def __init__(self, kube):
        self.kube = kube

    @property
    def pods(self):
        return self.kube.pods

    def list_once(self):
        return self

    def wait(self, predicate, deadline):
        return bool(predicate(self.kube.pods))


class FakeConnection:
    def __init__(self, kube):
        self.kube = kube
        self.opened = []

    @property
    def sts(self):
        return self.kube.get("/apis/apps/v1/namespaces/%s/statefulsets/%s" % (NS, NAME))

    def pod_set(self):
        return FakePodSet(self.kube)

    def open(self, pods):
        self.opened.append(list(pods))
        return {pod: ElasticsearchClient("https://%s.es-headless.db.svc:9200" % pod, username="elastic",
                                         password="s3cret-pw", transport=self.kube.es.transport(pod))
                for pod in pods}

    def close(self):
        pass


def params(**extra):
    values = {key: spec.get("default") for key, spec in ROLLING_SPEC.items()}
    values.update(namespace=NS, name=NAME, timeout=60, request_timeout=5.0)
    values.update(extra)
    return values


def roll(kube, check_mode=False, **extra):
    given = params(**extra)
    return for_action(given["action"])(given, check_mode, None, connection=FakeConnection(kube)).run()


def test_update_with_node_shutdown_api_one_pod_at_a_time_master_last():
    es = FakeEs(["es-0", "es-1", "es-2"], version="8.19.21", master="es-1")
    kube = FakeKube(es)
    result = roll(kube, action="update")
    assert result["method"] == "node_shutdown" and result["elected_master"] == "es-1"
    assert result["planned"] == result["restarted"] == ["es-2", "es-0", "es-1"]
    expected = []
    for pod, admin in (("es-2", "es-0"), ("es-0", "es-1"), ("es-1", "es-0")):
        expected += [(admin, "PUT /_nodes/id-%s/shutdown" % pod), (admin, "POST /_flush"),
                     ("k8s", "DELETE pod/" + pod), (admin, "DELETE /_nodes/id-%s/shutdown" % pod)]
    assert es.calls() == expected
    assert [s["action"] for s in result["steps"][:7]] == [
        "node_shutdown", "flush", "delete_pod", "pod_ready", "node_joined", "delete_node_shutdown", "cluster_green"]
    shutdown = [d for _p, m, path, _q, d in es.log if m == "PUT"][0]
    assert shutdown == {"type": "restart", "reason": "stateful.datastores rolling restart"}
    assert all(p["metadata"]["labels"][REVISION_LABEL] == "es-new" for p in kube.pods.values())
    assert result["changed"] is True
    assert "s3cret-pw" not in json.dumps(result)


def test_green_is_awaited_between_pods():
    """After each pod: the node back (wait_for_nodes), then the status (wait_for_status) before the next one."""
    es = FakeEs(["es-0", "es-1", "es-2"], distribution="opensearch", version="2.19.1", master="es-0")
    kube = FakeKube(es)
    result = roll(kube, action="restart")
    assert result["method"] == "allocation" and result["restarted"] == ["es-2", "es-1", "es-0"]
    sequence = []
    for pod, method, path, query, data in es.log:
        if pod == "k8s":
            sequence.append("delete " + path.split("/")[1])
        elif (method, path) == ("PUT", "/_cluster/settings"):
            sequence.append("allocation %s" % data["persistent"]["cluster.routing.allocation.enable"])
        elif path == "/_cluster/health" and "wait_for_status" in query:
            sequence.append("wait " + query["wait_for_status"])
    # Consecutive waits collapse: the check before a pod follows the wait after the previous one.
    sequence = [item for item, _group in itertools.groupby(sequence)]
    assert sequence == ["wait green",
                        "allocation primaries", "delete es-2", "allocation None", "wait green",
                        "allocation primaries", "delete es-1", "allocation None", "wait green",
                        "allocation primaries", "delete es-0", "allocation None", "wait green"]
    assert es.persistent == {} and es.status() == "green"


def test_update_restarts_only_outdated_pods_and_nothing_when_none():
    es = FakeEs(["es-0", "es-1", "es-2"])
    kube = FakeKube(es, revisions={0: "es-new", 2: "es-new"})
    result = roll(kube, action="update")
    assert result["restarted"] == ["es-1"] and ("k8s", "DELETE pod/es-1") in es.calls()
    again = roll(kube, action="update")
    assert again["changed"] is False and again["restarted"] == [] and again["steps"] == []


def test_check_mode_plans_and_changes_nothing():
    es = FakeEs(["es-0", "es-1", "es-2"], master="es-2")
    kube = FakeKube(es)
    result = roll(kube, check_mode=True, action="update")
    assert result["changed"] is True and result["planned"] == ["es-1", "es-0", "es-2"] and result["restarted"] == []
    assert es.calls() == []
    scale = roll(kube, check_mode=True, action="scale_down", replicas=1)
    assert scale["removed"] == ["es-1", "es-2"] and scale["kept_pvcs"] == ["data-es-1", "data-es-2"]
    assert es.calls() == [] and len(kube.pods) == 3


def test_refuses_to_start_unless_green():
    es = FakeEs(["es-0", "es-1", "es-2"])
    es.yellow = True
    kube = FakeKube(es)
    with pytest.raises(RollingError) as error:
        roll(kube, action="restart", timeout=1)
    assert "before restarting es-2 the cluster must be green with 3 nodes" in str(error.value)
    assert es.calls() == [] and error.value.result["changed"] is False


def test_a_pod_that_does_not_come_back_stops_the_run():
    es = FakeEs(["es-0", "es-1", "es-2"], version="7.10.2")
    kube = FakeKube(es, replacement_ready=False)
    with pytest.raises(RollingError) as error:
        roll(kube, action="restart", timeout=2)
    message = str(error.value)
    assert "pod es-2 was deleted but no replacement became Ready in time" in message
    assert "es-2 Running, not Ready" in message
    assert error.value.result["changed"] is True  # one pod was deleted: honest
    assert [c for c in es.calls() if c[0] == "k8s"] == [("k8s", "DELETE pod/es-2")]


def test_leftover_primaries_from_an_interrupted_run_are_reset_first():
    es = FakeEs(["es-0", "es-1", "es-2"], distribution="opensearch", version="2.19.1")
    es.persistent["cluster.routing.allocation.enable"] = "primaries"
    es.yellow = False
    result = roll(FakeKube(es, revisions={0: "es-new", 1: "es-new"}), action="update")
    assert result["steps"][0]["action"] == "reset_allocation"
    assert result["restarted"] == ["es-2"] and es.persistent == {}


def test_node_shutdown_method_is_refused_where_missing():
    es = FakeEs(["es-0", "es-1", "es-2"], distribution="opensearch", version="2.19.1")
    with pytest.raises(RollingError, match="method node_shutdown needs Elasticsearch >= 7.15.2; the nodes run "
                                           "opensearch 2.19.1"):
        roll(FakeKube(es), action="restart", method="node_shutdown")
    assert es.calls() == []


def test_scale_down_excludes_voters_moves_shards_then_scales_and_clears():
    es = FakeEs(["es-0", "es-1", "es-2"])
    kube = FakeKube(es)
    result = roll(kube, action="scale_down", replicas=2)
    assert result["removed"] == ["es-2"] and result["kept_pvcs"] == ["data-es-2"]
    assert es.calls() == [
        ("es-0", "POST /_cluster/voting_config_exclusions"),
        ("es-0", "PUT /_cluster/settings"),
        ("k8s", "PATCH scale/2"),
        ("es-0", "DELETE /_cluster/voting_config_exclusions"),
        ("es-0", "PUT /_cluster/settings"),
    ]
    posted = [q for _p, m, path, q, _d in es.log if path == "/_cluster/voting_config_exclusions" and m == "POST"]
    assert posted[0]["node_names"] == "es-2"
    assert [s["action"] for s in result["steps"]] == [
        "voting_exclusions", "allocation_exclude", "shards_moved", "scale", "pods_gone", "nodes_left",
        "voting_exclusions_cleared", "allocation_exclude_restored", "cluster_green"]
    assert es.voting == [] and es.persistent == {} and sorted(kube.pods) == ["es-0", "es-1"]
    assert all(s["node"] != "es-2" for s in es.shards)
    assert roll(kube, action="scale_down", replicas=2)["changed"] is False


def test_scale_down_stops_when_shards_cannot_move():
    es = FakeEs(["es-0", "es-1", "es-2"])
    es.stuck_shards = True
    kube = FakeKube(es)
    with pytest.raises(RollingError) as error:
        roll(kube, action="scale_down", replicas=2)
    message = str(error.value)
    assert "1 shard copies cannot move off es-2 (for example [messages][0] replica)" in message
    assert "cannot move: no other node may hold the copy" in message
    assert ("k8s", "PATCH scale/2") not in es.calls() and len(kube.pods) == 3


@pytest.mark.parametrize("extra, message", [
    ({"action": "scale_down"}, "replicas (the number of pods to keep) is required with action scale_down"),
    ({"action": "scale_down", "replicas": 0}, "replicas must be at least 1, got 0"),
    ({"action": "update", "replicas": 2}, "replicas only applies to action scale_down"),
    ({"action": "update", "pods": ["es-0"]}, "pods only applies to action restart"),
    ({"action": "restart", "timeout": -1}, "timeout must be 0 or more seconds, got -1"),
])
def test_validate(extra, message):
    assert message in validate(params(**extra))


def test_spec_has_no_endpoints_and_shares_the_connection_options():
    assert "endpoints" not in ROLLING_SPEC
    assert {k for k in CONNECTION_SPEC if k.startswith("es_")} <= set(ROLLING_SPEC)
    assert ROLLING_SPEC["es_password"]["no_log"] is True
