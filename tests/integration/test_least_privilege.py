# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""site.yml as a ServiceAccount that holds exactly docs/rbac/deployer.yaml, authenticated as AWX does.

AWX's credential type "OpenShift or Kubernetes API Bearer Token" hands a job four environment variables
and nothing else: K8S_AUTH_HOST, K8S_AUTH_API_KEY, K8S_AUTH_VERIFY_SSL ('True') and K8S_AUTH_SSL_CA_CERT.
These runs get those and no kubeconfig to fall back on (KUBECONFIG and K8S_AUTH_KUBECONFIG unset, HOME an
empty directory), so every module of the collection and every kubernetes.core task and lookup must take
its connection from the environment. The token is a ServiceAccount's, bound only to the ClusterRole of
docs/rbac/deployer.yaml, so a converged run proves that the documented permissions are enough; the runs
that fail prove that RBAC really limits that identity. The backends answer the admin ports as in
test_site.py; they are left to make no namespace, which the deployer creates.
"""
import os
import pathlib
import uuid

import pytest
import yaml

from tests.backends.serve import Backends
from tests.helpers.ansible import REPO, run_playbook, run_playbook_json
from tests.helpers.audit import AuditLog
from tests.helpers.cluster import apply, kubeconfig_path, kubectl, kubectl_json

pytestmark = pytest.mark.localkube
DEPLOYER = REPO / "docs" / "rbac" / "deployer.yaml"
INVENTORY = REPO / "inventories" / "local"
# Elasticsearch joins once tests/backends can answer for it (loklak is a system of its own, not selected here).
SYSTEMS = ["antidote"] + (["elasticsearch"] if hasattr(Backends, "_start_elasticsearch") else []) + [
    "hazelcast", "atomix"]
REPORTED = {"antidote": ["AntidoteDB"], "elasticsearch": ["Elasticsearch"], "hazelcast": ["Hazelcast"],
            "atomix": ["Atomix"]}


def deployer_rules():
    documents = [d for d in yaml.safe_load_all(DEPLOYER.read_text()) if d]
    assert [d["kind"] for d in documents] == ["ClusterRole"], "deployer.yaml is one ClusterRole"
    return documents[0]["rules"]


def without(rules, resource, verb):
    """The rules with one verb on one resource taken away (other resources of a rule keep it)."""
    left = []
    for rule in rules:
        if resource not in rule["resources"] or verb not in rule["verbs"]:
            left.append(rule)
            continue
        others = [r for r in rule["resources"] if r != resource]
        verbs = [v for v in rule["verbs"] if v != verb]
        if others:
            left.append(dict(rule, resources=others))
        if verbs:
            left.append(dict(rule, resources=[resource], verbs=verbs))
    return left


class Identity(object):
    """A ServiceAccount, bound by a ClusterRoleBinding to a ClusterRole of `rules` (none: no binding)."""

    def __init__(self, namespace, name, rules=None):
        self.namespace, self.name = namespace, name
        self.username = "system:serviceaccount:{}:{}".format(namespace, name)
        self.cluster_role = "{}-{}".format(namespace, name) if rules is not None else None
        kubectl("create", "serviceaccount", name, "-n", namespace)
        if rules is not None:
            apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                   "metadata": {"name": self.cluster_role, "labels": {"stateful.datastores/test": "least-privilege"}},
                   "rules": rules})
            kubectl("create", "clusterrolebinding", self.cluster_role, "--clusterrole=" + self.cluster_role,
                    "--serviceaccount={}:{}".format(namespace, name))
        self.token = kubectl("create", "token", name, "-n", namespace, "--duration=1h").stdout.strip()
        assert self.token.count(".") == 2, "a JWT from kubectl create token"

    def delete(self):
        if self.cluster_role:
            kubectl("delete", "clusterrolebinding,clusterrole", self.cluster_role, "--ignore-not-found", check=False)


def api_server():
    config = yaml.safe_load(pathlib.Path(kubeconfig_path()).read_text())
    server = config["clusters"][0]["cluster"]["server"]
    assert server.startswith("https://127.0.0.1:"), server
    return server


def awx_environment(identity, home):
    """Exactly what AWX's Kubernetes bearer token credential injects; every other way to a cluster removed."""
    ca_cert = pathlib.Path(kubeconfig_path()).parent / "pki" / "ca.crt"
    assert ca_cert.is_file()
    assert home.is_dir() and not any(home.iterdir()), "HOME is empty: there is no ~/.kube/config"
    env = {name: None for name in os.environ if name.startswith("K8S_AUTH_")}
    env.update({"KUBECONFIG": None, "KUBERNETES_SERVICE_HOST": None, "KUBERNETES_SERVICE_PORT": None,
                "HOME": str(home), "K8S_AUTH_HOST": api_server(), "K8S_AUTH_API_KEY": identity.token,
                "K8S_AUTH_SSL_CA_CERT": str(ca_cert), "K8S_AUTH_VERIFY_SSL": "True"})
    return env


def names_for(suffix):
    storage_class = "lp-" + suffix
    return {"datastores_systems": SYSTEMS, "antidote_namespace": "antidote-" + suffix,
            "hazelcast_namespace": "hazelcast-" + suffix, "atomix_namespace": "atomix-" + suffix,
            "elasticsearch_namespace": "elasticsearch-" + suffix, "loklak_namespace": "loklak-" + suffix,
            "storage_class_name": storage_class, "antidote_storage_class": storage_class,
            "atomix_storage_class": storage_class, "elasticsearch_storage_class": storage_class}


def namespaces_of(names):
    return sorted(value for key, value in names.items() if key.endswith("_namespace"))


def existing_namespaces():
    return {n["metadata"]["name"] for n in kubectl_json("get", "namespaces")["items"]}


def clean_up(names):
    for namespace in namespaces_of(names):
        kubectl("delete", "namespace", namespace, "--wait=false", "--ignore-not-found", check=False)
    storage_class = names["storage_class_name"]
    volumes = [v["metadata"]["name"] for v in kubectl_json("get", "pv")["items"]
               if v["spec"].get("storageClassName") == storage_class]
    if volumes:
        kubectl("delete", "pv", "--wait=false", *volumes, check=False)
    kubectl("delete", "storageclass", storage_class, "--ignore-not-found", check=False)
    # The Atomix controllers' ClusterRoles and bindings are named after their namespace.
    prefix = names["atomix_namespace"] + "-"
    for kind in ("clusterrolebindings", "clusterroles"):
        leftovers = [o["metadata"]["name"] for o in kubectl_json("get", kind)["items"]
                     if o["metadata"]["name"].startswith(prefix)]
        if leftovers:
            kubectl("delete", kind, *leftovers, check=False)


@pytest.fixture(scope="module")
def home_namespace():
    """The namespace of the test's ServiceAccounts."""
    name = "lp-" + uuid.uuid4().hex[:5]
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture(scope="module")
def deployer(home_namespace):
    identity = Identity(home_namespace, "deployer", deployer_rules())
    yield identity
    identity.delete()


@pytest.fixture(scope="module")
def deployed(deployer, tmp_path_factory):
    """site.yml converged as the deployer, from no namespace at all; its run and names."""
    names = names_for(uuid.uuid4().hex[:5])
    assert not existing_namespaces() & set(namespaces_of(names))
    backends = Backends(INVENTORY, SYSTEMS, names, create_namespaces=False)
    try:
        backends.start()
        audit = AuditLog()
        env = awx_environment(deployer, tmp_path_factory.mktemp("empty-home"))
        run = run_playbook(REPO / "playbooks" / "site.yml", names, inventory=INVENTORY, env=env)
        yield {"names": names, "run": run, "env": env, "audit": audit.read()}
    finally:
        backends.stop()
        clean_up(names)


def test_documented_permissions_are_enough_for_site_yml(deployed):
    run = deployed["run"]
    assert run.rc == 0 and run.failed == 0, run
    report = run.stdout[run.stdout.rindex("Print what is deployed"):]
    for system in SYSTEMS:
        for label in REPORTED[system]:
            lines = [line for line in report.splitlines() if label in line]
            assert lines and all(line.lstrip(" -").startswith("healthy ") for line in lines), report


def test_the_deployer_created_the_namespaces(deployed):
    """The backends made none of them, and they did not exist before the run."""
    wanted = {deployed["names"][system + "_namespace"] for system in SYSTEMS}
    assert wanted <= existing_namespaces()


def test_the_modules_watched_as_the_deployer(deployed, deployer):
    """wait_ready and hazelcast_cluster took the token from K8S_AUTH_API_KEY: the API server saw their
    watches as the ServiceAccount (localkube audits the start of every watch)."""
    watched = {(entry["objectRef"].get("namespace"), entry["objectRef"].get("resource"))
               for entry in deployed["audit"]
               if entry.get("verb") == "watch" and entry["user"]["username"] == deployer.username}
    names = deployed["names"]
    assert (names["antidote_namespace"], "statefulsets") in watched, watched
    assert (names["hazelcast_namespace"], "pods") in watched, watched
    assert (names["atomix_namespace"], "raftclusters") in watched, watched
    assert (None, "customresourcedefinitions") in watched, watched


def test_verify_yml_needs_nothing_more(deployed):
    run = run_playbook(REPO / "playbooks" / "verify.yml", deployed["names"], inventory=INVENTORY,
                       env=deployed["env"])
    assert run.rc == 0 and run.changed == 0, run


def test_a_service_account_without_the_binding_is_refused_at_the_first_call(home_namespace, tmp_path_factory):
    nobody = Identity(home_namespace, "nobody")
    names = names_for(uuid.uuid4().hex[:5])
    try:
        run = run_playbook_json(REPO / "playbooks" / "site.yml", names, inventory=INVENTORY,
                                env=awx_environment(nobody, tmp_path_factory.mktemp("empty-home")))
        failures = run.failures()
        assert run.rc != 0 and len(failures) == 1, run
        task, result = failures[0]
        assert task.endswith("List the StorageClasses"), run
        # kubernetes.core quotes the API server's Status with its quotes escaped.
        message = str(result.get("msg", "")).replace("\\", "")
        assert "Forbidden" in message, message
        assert 'User "{}" cannot list resource "storageclasses" in API group "storage.k8s.io" at the cluster scope'.format(
            nobody.username) in message, message
        assert not existing_namespaces() & set(namespaces_of(names))
        assert kubectl("get", "storageclass", names["storage_class_name"], check=False).returncode != 0
    finally:
        nobody.delete()
        clean_up(names)


def test_atomix_controller_roles_need_every_permission_they_grant(home_namespace, tmp_path_factory):
    """RBAC escalation prevention, as docs/permissions.md says: without update on pods/status the deployer
    may not create the Atomix controller's ClusterRole, which grants it."""
    short = Identity(home_namespace, "short", without(deployer_rules(), "pods/status", "update"))
    names = dict(names_for(uuid.uuid4().hex[:5]), datastores_systems=["atomix"])
    try:
        run = run_playbook_json(REPO / "playbooks" / "site.yml", names, inventory=INVENTORY,
                                env=awx_environment(short, tmp_path_factory.mktemp("empty-home")))
        failures = run.failures()
        assert run.rc != 0 and len(failures) == 1, run
        task, result = failures[0]
        assert task.endswith("Apply the namespace and the controllers and wait until the controllers are ready"), run
        message = str(result.get("msg", "")).replace("\\", "")
        assert 'clusterroles.rbac.authorization.k8s.io "{}-atomix-controller" is forbidden'.format(
            names["atomix_namespace"]) in message, message
        assert "attempting to grant RBAC permissions not currently held" in message, message
        assert 'Resources:["pods/status"], Verbs:["update"]' in message, message
    finally:
        short.delete()
        clean_up(names)
