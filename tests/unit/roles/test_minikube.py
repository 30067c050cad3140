# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The minikube role's decisions, checked against the fake minikube in tests/fakes.

minikube cannot run in CI. The fake records every call (argv, one JSON line each) and answers
`profile list` / `addons list` from a state file, so these tests assert the exact command lines the
role runs: first start, no-op, recreate (allowed or refused), addon changes, check mode, install.
"""
import hashlib
import http.server
import json
import pathlib
import sys
import threading

import pytest

pytestmark = pytest.mark.slow

REPO = pathlib.Path(__file__).resolve().parents[3]
FAKE = REPO / "tests" / "fakes" / "minikube"
FAKE_IMPL = REPO / "tests" / "fakes" / "minikube.py"

PLAYBOOK = """\
- name: Use the minikube role
  hosts: localhost
  gather_facts: false
  roles:
    - role: stateful.datastores.minikube
"""

READ_ONLY = (["profile", "list", "--output=json"], ["addons", "list", "--profile=datastores", "--output=json"],
             ["version", "--short"])

PROFILE_LIST = ["profile", "list", "--output=json"]
ADDONS_LIST = ["addons", "list", "--profile=datastores", "--output=json"]
UPDATE_CONTEXT = ["update-context", "--profile=datastores"]
DELETE = ["delete", "--profile=datastores"]
FIRST_START = ["start", "--profile=datastores", "--driver=docker", "--cpus=2", "--memory=4096mb",
               "--disk-size=20000mb", "--kubernetes-version=v1.34.0",
               "--insecure-registry=10.20.0.0/16", "--insecure-registry=registry.local:5000",
               "--addons=ingress"]


def sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


class Minikube(object):
    """A temp dir with the fake's state and call log, MINIKUBE_HOME and KUBECONFIG."""

    def __init__(self, tmp_path, playbook_runner):
        self.dir = tmp_path
        self.playbook = tmp_path / "play.yml"
        self.playbook.write_text(PLAYBOOK)
        self.log = tmp_path / "calls.jsonl"
        self.state_file = tmp_path / "state.json"
        self.home = tmp_path / "minikube-home"
        self.kubeconfig = tmp_path / "kubeconfig"
        self._run_playbook = playbook_runner
        self.vars = {
            "minikube_install": False,
            "minikube_bin_path": str(FAKE),
            "minikube_profile": "datastores",
            "minikube_driver": "docker",
            "minikube_cpus": 2,
            "minikube_memory_mb": 4096,
            "minikube_disk_size_mb": 20000,
            "minikube_kubernetes_version": "v1.34.0",
            "minikube_insecure_registries": ["registry.local:5000", "10.20.0.0/16"],
            "minikube_addons": ["ingress"],
            "minikube_home": str(self.home),
            "minikube_kubeconfig": str(self.kubeconfig),
        }

    def run(self, check=False, **overrides):
        """Run the role; the call log starts empty for every run."""
        self.log.write_text("")
        variables = dict(self.vars, **overrides)
        env = {"FAKE_MINIKUBE_LOG": str(self.log), "FAKE_MINIKUBE_STATE": str(self.state_file),
               "FAKE_MINIKUBE_IMPL": str(FAKE_IMPL), "FAKE_MINIKUBE_PYTHON": sys.executable}
        return self._run_playbook(self.playbook, variables, check=check, env=env)

    @property
    def calls(self):
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]

    @property
    def argvs(self):
        return [c["argv"] for c in self.calls]

    @property
    def state(self):
        return json.loads(self.state_file.read_text()) if self.state_file.exists() else {"profiles": {}}

    def write_state(self, state):
        self.state_file.write_text(json.dumps(state))

    def profile(self):
        return self.state["profiles"]["datastores"]

    def started(self):
        """Start the profile with the base variables and check that it worked."""
        result = self.run()
        assert not result.failed, result.describe()
        return self


@pytest.fixture
def minikube(tmp_path, playbook_runner):
    return Minikube(tmp_path, playbook_runner)


def test_first_start_passes_every_setting(minikube):
    result = minikube.run()

    assert not result.failed, result.describe()
    assert minikube.argvs == [PROFILE_LIST, FIRST_START]
    for call in minikube.calls:
        assert call["env"]["MINIKUBE_HOME"] == str(minikube.home)
        assert call["env"]["KUBECONFIG"] == str(minikube.kubeconfig)
    assert result.changed_tasks() == ["stateful.datastores.minikube : Start minikube"]
    config = minikube.profile()["Config"]
    assert (config["CPUs"], config["Memory"], config["DiskSize"]) == (2, 4096, 20000)
    assert config["Addons"]["ingress"] is True


def test_second_run_changes_nothing(minikube):
    minikube.started()

    result = minikube.run()

    assert not result.failed, result.describe()
    assert result.changed == 0, result.changed_tasks()
    assert minikube.argvs == [PROFILE_LIST, ADDONS_LIST, UPDATE_CONTEXT]


def test_stopped_profile_is_started_without_delete(minikube):
    minikube.started()
    state = minikube.state
    state["profiles"]["datastores"]["Status"] = "Stopped"
    minikube.write_state(state)

    result = minikube.run()

    assert not result.failed, result.describe()
    assert minikube.argvs == [PROFILE_LIST, FIRST_START, ADDONS_LIST]
    assert minikube.profile()["Status"] == "Running"


RECREATE_CASES = [
    # variable, new value, start flags that change, how the message shows current and wanted
    ("minikube_driver", "podman", {"--driver=docker": "--driver=podman"}, 'current "docker", wanted "podman"'),
    ("minikube_cpus", 4, {"--cpus=2": "--cpus=4"}, "current 2, wanted 4"),
    ("minikube_memory_mb", 8192, {"--memory=4096mb": "--memory=8192mb"}, "current 4096, wanted 8192"),
    ("minikube_disk_size_mb", 40000, {"--disk-size=20000mb": "--disk-size=40000mb"}, "current 20000, wanted 40000"),
    ("minikube_kubernetes_version", "1.33.5", {"--kubernetes-version=v1.34.0": "--kubernetes-version=v1.33.5"},
     'current "v1.34.0", wanted "v1.33.5"'),
    ("minikube_insecure_registries", ["registry.local:5000"], {"--insecure-registry=10.20.0.0/16": None},
     'current ["10.20.0.0/16", "registry.local:5000"], wanted ["registry.local:5000"]'),
]


def expected_start(changes):
    argv = []
    for arg in FIRST_START:
        if arg in changes:
            if changes[arg] is not None:
                argv.append(changes[arg])
        else:
            argv.append(arg)
    return argv


@pytest.mark.parametrize("variable,value,changes,shown", RECREATE_CASES, ids=[c[0] for c in RECREATE_CASES])
def test_setting_change_is_refused_without_allow_recreate(minikube, variable, value, changes, shown):
    minikube.started()
    before = minikube.state

    result = minikube.run(**{variable: value})

    assert result.failed
    assert minikube.argvs == [PROFILE_LIST], "nothing but the read may run"
    assert minikube.state == before
    message = " ".join(result.failure_messages)
    assert "{}: {}".format(variable, shown) in message
    assert "minikube_allow_recreate" in message
    others = {c[0] for c in RECREATE_CASES} - {variable}
    assert not [o for o in others if o + ":" in message], message


@pytest.mark.parametrize("variable,value,changes,shown", RECREATE_CASES, ids=[c[0] for c in RECREATE_CASES])
def test_setting_change_deletes_then_starts_with_allow_recreate(minikube, variable, value, changes, shown):
    minikube.started()

    result = minikube.run(minikube_allow_recreate=True, **{variable: value})

    assert not result.failed, result.describe()
    assert minikube.argvs == [PROFILE_LIST, DELETE, expected_start(changes)]
    again = minikube.run(minikube_allow_recreate=True, **{variable: value})
    assert again.changed == 0, again.changed_tasks()
    assert minikube.argvs == [PROFILE_LIST, ADDONS_LIST, UPDATE_CONTEXT]


def test_several_changes_are_all_named(minikube):
    minikube.started()

    result = minikube.run(minikube_cpus=6, minikube_memory_mb=8192)

    assert result.failed
    message = " ".join(result.failure_messages)
    assert "minikube_cpus: current 2, wanted 6" in message
    assert "minikube_memory_mb: current 4096, wanted 8192" in message
    assert "minikube_driver" not in message and "minikube_disk_size_mb" not in message


def test_insecure_registry_order_does_not_matter(minikube):
    minikube.started()

    result = minikube.run(minikube_insecure_registries=["10.20.0.0/16", "registry.local:5000"])

    assert not result.failed, result.describe()
    assert result.changed == 0


def test_addon_change_only_enables_the_new_addon(minikube):
    minikube.started()

    result = minikube.run(minikube_addons=["ingress", "metrics-server"])

    assert not result.failed, result.describe()
    assert minikube.argvs == [PROFILE_LIST, ADDONS_LIST,
                              ["addons", "enable", "metrics-server", "--profile=datastores"], UPDATE_CONTEXT]
    assert result.changed_tasks() == ["stateful.datastores.minikube : Enable addons"]
    assert minikube.profile()["Config"]["Addons"]["metrics-server"] is True


def test_addon_disable_only_disables(minikube):
    minikube.started()

    result = minikube.run(minikube_addons_disabled=["default-storageclass"])

    assert not result.failed, result.describe()
    assert minikube.argvs == [PROFILE_LIST, ADDONS_LIST,
                              ["addons", "disable", "default-storageclass", "--profile=datastores"], UPDATE_CONTEXT]
    assert minikube.profile()["Config"]["Addons"]["default-storageclass"] is False


def test_unknown_addon_fails_with_the_known_list(minikube):
    minikube.started()

    result = minikube.run(minikube_addons=["ingress", "no-such-addon"])

    assert result.failed
    message = " ".join(result.failure_messages)
    assert "no-such-addon" in message and "metrics-server" in message
    assert minikube.argvs == [PROFILE_LIST, ADDONS_LIST]


def test_context_switch_is_reported_as_a_change(minikube):
    minikube.started()
    state = minikube.state
    state["profiles"]["datastores"]["ActiveKubeContext"] = False
    minikube.write_state(state)

    result = minikube.run()

    assert not result.failed, result.describe()
    assert minikube.argvs[-1] == UPDATE_CONTEXT
    assert result.changed_tasks() == ["stateful.datastores.minikube : Update the kubectl context of the profile"]


def test_endpoint_update_is_reported_as_a_change(minikube):
    minikube.started()
    state = minikube.state
    state["endpoint_moved"] = True
    minikube.write_state(state)

    result = minikube.run()

    assert result.changed_tasks() == ["stateful.datastores.minikube : Update the kubectl context of the profile"]


def assert_only_reads(minikube):
    mutating = [argv for argv in minikube.argvs if argv not in READ_ONLY]
    assert not mutating, "check mode ran mutating commands: {}".format(mutating)


def test_check_mode_on_a_new_profile_starts_nothing(minikube):
    result = minikube.run(check=True)

    assert not result.failed, result.describe()
    assert_only_reads(minikube)
    assert minikube.argvs == [PROFILE_LIST]
    assert "datastores" not in minikube.state["profiles"]
    report = result.result("Report the start that check mode skipped")
    assert report["changed"] is True
    assert "--cpus=2" in report["msg"] and "--addons=ingress" in report["msg"]


def test_check_mode_with_allowed_recreate_deletes_nothing(minikube):
    minikube.started()
    before = minikube.state

    result = minikube.run(check=True, minikube_allow_recreate=True, minikube_cpus=4)

    assert not result.failed, result.describe()
    assert_only_reads(minikube)
    assert minikube.state == before
    assert "minikube_cpus: current 2, wanted 4" in result.result("Report the delete that check mode skipped")["msg"]
    assert result.changed > 0


def test_check_mode_addon_change_enables_nothing(minikube):
    minikube.started()
    before = minikube.state

    result = minikube.run(check=True, minikube_addons=["ingress", "dashboard"])

    assert not result.failed, result.describe()
    assert minikube.argvs == [PROFILE_LIST, ADDONS_LIST]
    assert minikube.state == before
    assert result.changed_tasks() == ["stateful.datastores.minikube : Report the addon changes that check mode skipped"]


def test_check_mode_no_op_reports_no_change(minikube):
    minikube.started()

    result = minikube.run(check=True)

    assert not result.failed, result.describe()
    assert result.changed == 0, result.changed_tasks()
    assert_only_reads(minikube)


@pytest.mark.parametrize("overrides,named", [
    ({"minikube_kubernetes_version": "latest"}, "minikube_kubernetes_version"),
    ({"minikube_cpus": 0}, "minikube_cpus"),
    ({"minikube_install": True, "minikube_install_source": "file", "minikube_local_file": ""}, "minikube_local_file"),
    ({"minikube_addons": ["ingress"], "minikube_addons_disabled": ["ingress"]}, "minikube_addons_disabled"),
    ({"minikube_driver": "lxc"}, "minikube_driver"),
])
def test_bad_input_fails_before_any_minikube_call(minikube, overrides, named):
    result = minikube.run(**overrides)

    assert result.failed
    assert minikube.argvs == []
    assert named in " ".join(result.failure_messages)


# --- install ---------------------------------------------------------------------------------------


@pytest.fixture
def installer(minikube):
    minikube.vars.update({"minikube_install": True, "minikube_bin_path": str(minikube.dir / "bin" / "minikube")})
    (minikube.dir / "bin").mkdir()
    return minikube


def test_install_from_local_file_with_the_right_sha256(installer):
    result = installer.run(minikube_install_source="file", minikube_local_file=str(FAKE),
                           minikube_sha256=sha256(FAKE).upper())

    assert not result.failed, result.describe()
    installed = pathlib.Path(installer.vars["minikube_bin_path"])
    assert sha256(installed) == sha256(FAKE)
    assert installed.stat().st_mode & 0o777 == 0o755
    assert result.result("Copy the verified file to minikube_bin_path")["changed"] is True
    assert installer.argvs == [PROFILE_LIST, FIRST_START], "the installed binary is the one that runs"


def test_install_refuses_a_file_with_the_wrong_sha256(installer):
    wrong = "0" * 64

    result = installer.run(minikube_install_source="file", minikube_local_file=str(FAKE), minikube_sha256=wrong)

    assert result.failed
    message = " ".join(result.failure_messages)
    assert "has SHA-256 {} but minikube_sha256 is {}".format(sha256(FAKE), wrong) in message
    assert not pathlib.Path(installer.vars["minikube_bin_path"]).exists()
    assert installer.argvs == []


def test_install_is_skipped_when_the_binary_is_already_there(installer):
    variables = {"minikube_install_source": "file", "minikube_local_file": str(FAKE), "minikube_sha256": sha256(FAKE)}
    installer.run(**variables)
    installed = pathlib.Path(installer.vars["minikube_bin_path"])
    mtime = installed.stat().st_mtime_ns

    result = installer.run(**variables)

    assert not result.failed, result.describe()
    assert result.changed == 0, result.changed_tasks()
    assert result.result("Copy the verified file to minikube_bin_path").get("skipped") is True
    assert installed.stat().st_mtime_ns == mtime


def test_check_mode_installs_nothing_and_runs_nothing(installer):
    result = installer.run(check=True, minikube_install_source="file", minikube_local_file=str(FAKE),
                           minikube_sha256=sha256(FAKE))

    assert not result.failed, result.describe()
    assert result.result("Copy the verified file to minikube_bin_path")["changed"] is True
    assert not pathlib.Path(installer.vars["minikube_bin_path"]).exists()
    assert installer.argvs == [], "no binary yet: check mode assumes there is no profile"
    assert "--cpus=2" in result.result("Report the start that check mode skipped")["msg"]


class Mirror(object):
    """An HTTP server on 127.0.0.1 laid out like the minikube release bucket."""

    def __init__(self, root):
        self.root = root
        self.requests = []
        mirror = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(root), **kwargs)

            def do_GET(self):  # noqa: N802 (http.server API)
                mirror.requests.append(self.path)
                super().do_GET()

            def log_message(self, *_args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:{}".format(self.server.server_address[1])

    def publish(self, version, content, digest=None):
        directory = self.root / version
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "minikube-linux-amd64").write_bytes(content)
        (directory / "minikube-linux-amd64.sha256").write_text(
            (digest or hashlib.sha256(content).hexdigest()) + "\n")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mirror(tmp_path):
    server = Mirror(tmp_path / "mirror")
    yield server
    server.close()


def test_install_from_mirror_uses_the_published_sha256_and_skips_the_same_version(installer, mirror):
    mirror.publish("v1.37.0", FAKE.read_bytes())
    variables = {"minikube_install_source": "mirror", "minikube_mirror_url": mirror.url + "/",
                 "minikube_version": "v1.37.0"}

    first = installer.run(**variables)

    assert not first.failed, first.describe()
    assert sha256(installer.vars["minikube_bin_path"]) == sha256(FAKE)
    assert mirror.requests == ["/v1.37.0/minikube-linux-amd64.sha256", "/v1.37.0/minikube-linux-amd64"]
    assert installer.argvs == [PROFILE_LIST, FIRST_START]

    second = installer.run(**variables)

    assert not second.failed, second.describe()
    assert second.changed == 0, second.changed_tasks()
    assert len(mirror.requests) == 2, "an installed v1.37.0 is not downloaded again"
    assert installer.argvs[0] == ["version", "--short"]


def test_install_from_mirror_refuses_a_binary_that_does_not_match_its_digest(installer, mirror):
    mirror.publish("v1.37.0", FAKE.read_bytes(), digest="ab" * 32)

    result = installer.run(minikube_install_source="mirror", minikube_mirror_url=mirror.url,
                           minikube_version="v1.37.0")

    assert result.failed
    assert "checksum" in " ".join(result.failure_messages).lower()
    assert not pathlib.Path(installer.vars["minikube_bin_path"]).exists()
    assert installer.argvs == []
