# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An OrderedReady StatefulSet whose crashing pod is of the old revision: the message says what to do."""
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.readiness import FAILED, WAITING, evaluate


def statefulset(policy="OrderedReady"):
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "hz", "namespace": "cache", "generation": 3},
            "spec": {"replicas": 3, "podManagementPolicy": policy, "selector": {"matchLabels": {"app": "hz"}},
                     "updateStrategy": {"type": "RollingUpdate"}},
            "status": {"observedGeneration": 3, "replicas": 3, "readyReplicas": 2, "updatedReplicas": 0,
                       "currentRevision": "hz-bad", "updateRevision": "hz-fixed"}}


def pod(name, revision, ready=True, crashing=False):
    state = {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}} if crashing else {"running": {}}
    return {"metadata": {"name": name, "namespace": "cache",
                         "labels": {"app": "hz", "controller-revision-hash": revision}},
            "status": {"phase": "Running",
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                       "containerStatuses": [{"name": "hazelcast", "ready": ready, "restartCount": 7,
                                              "state": state}]}}


def test_crashing_pod_of_the_old_revision_is_named_with_the_command_that_unsticks_it():
    pods = [pod("hz-0", "hz-bad"), pod("hz-1", "hz-bad"), pod("hz-2", "hz-bad", ready=False, crashing=True)]
    verdict = evaluate(statefulset(), pods=pods)
    assert verdict.state == FAILED
    assert "podManagementPolicy OrderedReady" in verdict.message
    assert "kubectl delete pod -n cache hz-2" in verdict.message and "revision hz-fixed" in verdict.message


def test_waiting_pod_of_the_old_revision_gets_the_hint_too():
    pods = [pod("hz-0", "hz-bad"), pod("hz-1", "hz-bad"), pod("hz-2", "hz-bad", ready=False)]
    verdict = evaluate(statefulset(), pods=pods)
    assert verdict.state == WAITING and "kubectl delete pod -n cache hz-2" in verdict.message


def test_no_hint_for_parallel_or_for_pods_of_the_new_revision():
    old = [pod("hz-0", "hz-bad"), pod("hz-1", "hz-bad"), pod("hz-2", "hz-bad", ready=False)]
    assert "kubectl delete" not in evaluate(statefulset("Parallel"), pods=old).message
    new = [pod("hz-0", "hz-bad"), pod("hz-1", "hz-bad"), pod("hz-2", "hz-fixed", ready=False)]
    assert "kubectl delete" not in evaluate(statefulset(), pods=new).message
