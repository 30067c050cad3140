# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The elasticsearch and loklak roles' manifests without a cluster: every option's effect on what is applied.

Renders templates/manifests.yaml.j2 of each role with its defaults/ and vars/ through ansible-playbook
(the same Jinja the role runs) and reads the documents. The localkube test applies the default variant
against a real API server; this covers the variants it does not (security off, the sysctl init
container, hard or no anti-affinity, extra settings, the bootstrap switch on its own).
"""
import json

import pytest

from tests.unit.roles.conftest import REPO

pytestmark = pytest.mark.slow

RENDER_PLAYBOOK = """\
- name: Render a role's manifests
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Load the role's defaults and internal variables (extra vars still win)
      ansible.builtin.include_vars: "{{ item }}"
      loop:
        - "{{ role_dir }}/defaults/main.yml"
        - "{{ role_dir }}/vars/main.yml"
    - name: Write the documents out
      ansible.builtin.copy:
        content: "{{ lookup('ansible.builtin.template', role_dir ~ '/templates/manifests.yaml.j2')
                     | ansible.builtin.from_yaml_all | select | list | to_json }}"
        dest: "{{ render_output }}"
        mode: "0600"
"""


@pytest.fixture
def render(tmp_path, playbook_runner):
    playbook = tmp_path / "render.yml"
    playbook.write_text(RENDER_PLAYBOOK)
    output = tmp_path / "manifests.json"

    def run(role="elasticsearch", **variables):
        defaults = {"_elasticsearch_bootstrap": False} if role == "elasticsearch" else {}
        defaults.update(variables)
        result = playbook_runner(playbook, dict(defaults, role_dir=str(REPO / "roles" / role),
                                                render_output=str(output)))
        assert not result.failed, result.describe()
        docs = json.loads(output.read_text())
        return {(d["kind"], d["metadata"]["name"]): d for d in docs}

    return run


def pod(docs, name="elasticsearch"):
    return docs[("StatefulSet", name)]["spec"]["template"]["spec"]


def config(docs, name="elasticsearch"):
    return docs[("ConfigMap", name + "-config")]["data"]


def test_bootstrap_adds_only_the_configmap_and_leaves_the_statefulset_alone(render):
    new = render(_elasticsearch_bootstrap=True, elasticsearch_replicas=5)
    later = render(_elasticsearch_bootstrap=False, elasticsearch_replicas=5)
    assert new[("ConfigMap", "elasticsearch-bootstrap")]["data"] == {
        "cluster.initial_master_nodes": "elasticsearch-0,elasticsearch-1,elasticsearch-2,elasticsearch-3,elasticsearch-4"}
    assert ("ConfigMap", "elasticsearch-bootstrap") not in later
    # The same StatefulSet either way: ending the bootstrap restarts nothing and changes nothing.
    assert new[("StatefulSet", "elasticsearch")] == later[("StatefulSet", "elasticsearch")]
    assert "initial_master_nodes" not in json.dumps(list(later.values()))
    assert sorted(kind for kind, _name in later) == ["ConfigMap", "PodDisruptionBudget", "Service", "Service",
                                                     "StatefulSet"]


def test_defaults_are_secure_and_small(render):
    docs = render()
    spec = pod(docs)
    container = spec["containers"][0]
    assert container["image"] == "docker.elastic.co/elasticsearch/elasticsearch:8.19.21"
    assert container["resources"] == {"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
    assert {"name": "ES_JAVA_OPTS", "value": "-Xms512m -Xmx512m"} in container["env"]
    assert container["securityContext"] == {"runAsNonRoot": True, "runAsUser": 1000, "runAsGroup": 1000,
                                            "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": False,
                                            "capabilities": {"drop": ["ALL"]}}
    assert spec["securityContext"] == {"runAsNonRoot": True, "fsGroup": 1000, "seccompProfile": {"type": "RuntimeDefault"}}
    assert spec["automountServiceAccountToken"] is False and "initContainers" not in spec
    assert {"name": "certs", "secret": {"secretName": "elasticsearch-certs", "defaultMode": 288}} in spec["volumes"]
    yml = config(docs)["elasticsearch.yml"]
    for line in ("node.store.allow_mmap: false", "xpack.security.enabled: true", "xpack.security.http.ssl.enabled: true",
                 "xpack.security.transport.ssl.verification_mode: certificate", "node.name: ${POD_NAME}",
                 "network.publish_host: ${POD_IP}", "cluster.name: elasticsearch"):
        assert line in yml
    probe = config(docs)["readiness.sh"]
    assert "_cluster/state/master_node?local=true" in probe and "_cluster/health" not in probe
    assert '--config -' in probe and "ELASTIC_PASSWORD}\" | curl" in probe  # the password never in argv
    labels = docs[("Service", "elasticsearch")]["metadata"]["labels"]
    assert labels["app.kubernetes.io/component"] == "client" and labels["app.kubernetes.io/part-of"] == "stateful-datastores"
    for doc in docs.values():
        assert {"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component",
                "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by"} <= set(doc["metadata"]["labels"])


def test_security_off_drops_the_secrets_and_uses_http(render):
    docs = render(elasticsearch_security=False)
    container = pod(docs)["containers"][0]
    assert [e["name"] for e in container["env"]] == ["POD_NAME", "POD_IP", "ES_JAVA_OPTS"]
    assert all(v["name"] != "certs" for v in pod(docs)["volumes"])
    yml = config(docs)["elasticsearch.yml"]
    assert "xpack.security.enabled: false" in yml and "ssl" not in yml
    probe = config(docs)["readiness.sh"]
    assert 'url="http://' in probe and "ELASTIC_PASSWORD" not in probe


def test_sysctl_init_container_is_the_only_privileged_part(render):
    docs = render(elasticsearch_sysctl_init_container=True, elasticsearch_allow_mmap=True,
                  elasticsearch_max_map_count=1048576)
    spec = pod(docs)
    init = spec["initContainers"][0]
    assert init["securityContext"] == {"privileged": True, "runAsUser": 0, "runAsNonRoot": False}
    assert "sysctl -w vm.max_map_count=1048576" in init["command"][2] and '-lt 1048576' in init["command"][2]
    assert spec["securityContext"]["runAsNonRoot"] is False
    assert spec["containers"][0]["securityContext"]["runAsNonRoot"] is True
    assert "node.store.allow_mmap: true" in config(docs)["elasticsearch.yml"]


@pytest.mark.parametrize("mode, required, preferred", [
    ("hard", ["kubernetes.io/hostname"], ["topology.kubernetes.io/zone"]),
    ("soft", [], ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]),
    ("none", None, None),
])
def test_anti_affinity(render, mode, required, preferred):
    spec = pod(render(elasticsearch_anti_affinity=mode))
    if required is None:
        assert "affinity" not in spec
        return
    anti = spec["affinity"]["podAntiAffinity"]
    assert [t["topologyKey"] for t in anti.get("requiredDuringSchedulingIgnoredDuringExecution", [])] == required
    assert [t["podAffinityTerm"]["topologyKey"]
            for t in anti["preferredDuringSchedulingIgnoredDuringExecution"]] == preferred


def test_extra_settings_merge_and_a_change_rolls_the_pods(render):
    plain, tuned = render(), render(elasticsearch_config={"indices.queries.cache.size": "5%"},
                                    elasticsearch_cluster_name="search", elasticsearch_storage_class="")
    assert "indices.queries.cache.size: 5%" in config(tuned)["elasticsearch.yml"]
    assert "cluster.name: search" in config(tuned)["elasticsearch.yml"]
    key = "stateful.datastores/config-sha256"
    assert (plain[("StatefulSet", "elasticsearch")]["spec"]["template"]["metadata"]["annotations"][key]
            != tuned[("StatefulSet", "elasticsearch")]["spec"]["template"]["metadata"]["annotations"][key])
    assert "storageClassName" not in tuned[("StatefulSet", "elasticsearch")]["spec"]["volumeClaimTemplates"][0]["spec"]


def test_loklak_points_at_elasticsearch_by_service_name_and_stays_quiet(render):
    docs = render("loklak", loklak_elasticsearch_service="es", loklak_elasticsearch_namespace="search",
                  loklak_elasticsearch_cluster_name="search", loklak_config={"Xmx": "1G"},
                  loklak_service_annotations={"cloud.example/lb": "external"})
    data = docs[("ConfigMap", "loklak-config")]["data"]
    assert data["customized_config.properties"].splitlines()[1:] == [
        "backend=", "backend.push.enabled=false",
        "elasticsearch_transport.addresses=es.search:9300", "elasticsearch_transport.cluster.name=search",
        "elasticsearch_transport.enabled=true", "port.http=80", "retrieval.forbackend.enabled=false",
        "retrieval.queries.enabled=false", "Xmx=1G"]
    assert 'es_host="${PROBE_ES_HOST:-es.search}"' in data["probe.sh"]
    service = docs[("Service", "loklak")]
    assert service["spec"]["type"] == "LoadBalancer" and "clusterIP" not in service["spec"]
    assert service["metadata"]["annotations"] == {"cloud.example/lb": "external"}
    deployment = docs[("Deployment", "loklak")]["spec"]
    assert deployment["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    pod = deployment["template"]["spec"]
    container = pod["containers"][0]
    assert [(m["name"], m["mountPath"]) for m in container["volumeMounts"]] == [
        ("data", "/loklak_server/data"), ("config", "/loklak_server/data/settings/customized_config.properties"),
        ("config", "/mnt/stateful-datastores")]
    assert pod["volumes"][0] == {"name": "data", "persistentVolumeClaim": {"claimName": "loklak-data"}}
    claim = docs[("PersistentVolumeClaim", "loklak-data")]["spec"]
    assert claim["accessModes"] == ["ReadWriteOnce"] and claim["storageClassName"] == "stateful-datastores"
    # ReadWriteOnce: the next pod of a rolling update lands where the volume is.
    assert pod["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]["topologyKey"] == \
        "kubernetes.io/hostname"
    assert container["livenessProbe"] == {
        "httpGet": {"path": "/api/status.json", "port": "http"}, "timeoutSeconds": 3, "periodSeconds": 10,
        "failureThreshold": 3}
    # The liveness probe starts once loklak first answered: a slow first start is not killed.
    assert container["startupProbe"] == {
        "httpGet": {"path": "/api/status.json", "port": "http"}, "initialDelaySeconds": 30, "timeoutSeconds": 3,
        "periodSeconds": 5, "failureThreshold": 60}
    assert container["readinessProbe"]["exec"]["command"] == ["bash", "/mnt/stateful-datastores/probe.sh", "ready"]
    init = pod["initContainers"][0]
    assert init["name"] == "wait-for-elasticsearch" and "probe.sh backend" in init["command"][-1]
    assert "/loklak_server/test/queries" in init["command"][-1]
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}


def test_loklak_retrieval_and_transport_addresses(render):
    docs = render("loklak", loklak_retrieval=True, loklak_storage_access_mode="ReadWriteMany",
                  loklak_elasticsearch_transport_addresses=["es-0.es:9300", "es-1.es:9300"])
    properties = docs[("ConfigMap", "loklak-config")]["data"]["customized_config.properties"]
    assert "elasticsearch_transport.addresses=es-0.es:9300,es-1.es:9300" in properties.splitlines()
    assert "retrieval" not in properties and "backend" not in properties
    assert "Xmx=1g" in properties.splitlines(), "a heap below the default 2Gi limit, not the image's 3G"
    assert "affinity" not in docs[("Deployment", "loklak")]["spec"]["template"]["spec"]


def test_elasticsearch_2_gets_zen_discovery_and_no_security(render):
    docs = render(elasticsearch_version="2.4.6", elasticsearch_security=False)
    settings = yaml_settings(config(docs))
    assert settings["discovery.zen.ping.unicast.hosts"] == [
        "elasticsearch-headless.elasticsearch.svc.cluster.local:9300"]
    assert settings["discovery.zen.minimum_master_nodes"] == 2
    assert settings["transport.tcp.port"] == 9300 and "transport.port" not in settings
    assert settings["index.store.type"] == "niofs"
    assert not [key for key in settings if key.startswith(("xpack.", "discovery.seed", "node.store"))]
    spec = pod(docs)
    container = spec["containers"][0]
    assert container["image"] == "docker.io/library/elasticsearch:2.4.6"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["ES_HEAP_SIZE"] == "512m" and "ES_JAVA_OPTS" not in env and "ELASTIC_PASSWORD" not in env
    assert {"name": "logs", "emptyDir": {}} in spec["volumes"]
    assert docs[("Service", "elasticsearch")]["spec"]["ports"] == [
        {"name": "http", "port": 9200, "targetPort": "http", "protocol": "TCP"},
        {"name": "transport", "port": 9300, "targetPort": "transport", "protocol": "TCP"}]


def yaml_settings(data):
    import yaml

    return yaml.safe_load(data["elasticsearch.yml"])


def test_opensearch_distribution_uses_its_own_contract(render):
    docs = render(elasticsearch_distribution="opensearch", elasticsearch_version="2.19.1", _elasticsearch_bootstrap=True)
    data = docs[("ConfigMap", "elasticsearch-config")]["data"]
    assert "elasticsearch.yml" not in data
    settings = yaml_settings({"elasticsearch.yml": data["opensearch.yml"]})
    assert settings["plugins.security.disabled"] is False
    assert settings["plugins.security.ssl.http.enabled"] is True
    assert settings["plugins.security.ssl.transport.pemtrustedcas_filepath"] == "certs/ca.crt"
    # The subject of the certificate elasticsearch_secrets generates.
    assert settings["plugins.security.nodes_dn"] == ["CN=elasticsearch,OU=elasticsearch,O=stateful-datastores"]
    assert settings["discovery.seed_hosts"] == ["elasticsearch-headless.elasticsearch.svc.cluster.local:9300"]
    assert not [key for key in settings if key.startswith("xpack.")]
    assert 'user = "admin:%s"' in data["readiness.sh"] and "${OPENSEARCH_ADMIN_PASSWORD}" in data["readiness.sh"]
    assert docs[("ConfigMap", "elasticsearch-bootstrap")]["data"] == {
        "cluster.initial_cluster_manager_nodes": "elasticsearch-0,elasticsearch-1,elasticsearch-2"}
    spec = pod(docs)
    container = spec["containers"][0]
    assert container["image"] == "docker.io/opensearchproject/opensearch:2.19.1"
    env = {e["name"]: e for e in container["env"]}
    assert env["OPENSEARCH_JAVA_OPTS"]["value"] == "-Xms512m -Xmx512m"
    assert env["DISABLE_INSTALL_DEMO_CONFIG"]["value"] == "true"
    assert env["OPENSEARCH_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "elasticsearch-credentials", "key": "password"}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/usr/share/opensearch/config/opensearch.yml"]["subPath"] == "opensearch.yml"
    assert mounts["/usr/share/opensearch/config/certs"]["name"] == "certs"
    assert mounts["/usr/share/opensearch/config/opensearch-security"]["name"] == "security-config"
    init = spec["initContainers"][0]
    assert init["name"] == "security-config" and "tools/hash.sh -env OPENSEARCH_ADMIN_PASSWORD" in init["command"][-1]
    assert init["securityContext"]["runAsNonRoot"] is True


def test_single_node_mode_discovers_nobody(render):
    docs = render(elasticsearch_distribution="opensearch", elasticsearch_version="2.19.1", elasticsearch_replicas=1,
                  elasticsearch_single_node=True)
    settings = yaml_settings({"elasticsearch.yml": config(docs)["opensearch.yml"]})
    assert settings["discovery.type"] == "single-node"
    assert not [key for key in settings if key.startswith("discovery.") and key != "discovery.type"]
    assert docs[("StatefulSet", "elasticsearch")]["spec"]["replicas"] == 1


def test_opensearch_without_security_and_a_bad_version(render, playbook_runner):
    docs = render(elasticsearch_distribution="opensearch", elasticsearch_version="2.19.1", elasticsearch_security=False)
    settings = yaml_settings({"elasticsearch.yml": config(docs)["opensearch.yml"]})
    assert settings["plugins.security.disabled"] is True and len([k for k in settings if "security" in k]) == 1
    env = {e["name"]: e.get("value") for e in pod(docs)["containers"][0]["env"]}
    assert env["DISABLE_SECURITY_PLUGIN"] == "true" and "OPENSEARCH_ADMIN_PASSWORD" not in env
    assert "initContainers" not in pod(docs)
