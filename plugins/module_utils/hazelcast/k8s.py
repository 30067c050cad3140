# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes glue for the hazelcast_cluster module: which pods are the members, a port-forward to
each, and check_cluster (cluster.py) over those tunnels within one deadline.

The health logic lives in cluster.py. This file has k8s/members.py find the pods of a StatefulSet or
Deployment (or by label selector), wait within the deadline until the expected number of them run
(one watch) and open a port-forward to each, then runs check_cluster with the pods' names as the
endpoints' labels, so that every message says which pod sees what. With ``endpoints`` it asks the
given addresses directly and needs no Kubernetes API.
"""

import http.client

from ansible_collections.stateful.datastores.plugins.module_utils.errors import DatastoresError
from ansible_collections.stateful.datastores.plugins.module_utils.hazelcast.cluster import (
    DEFAULT_PORT,
    HazelcastClusterError,
    HttpTransport,
    check_cluster,
    endpoint_label,
    parse_endpoint,
)
from ansible_collections.stateful.datastores.plugins.module_utils.k8s import members
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.deadline import Deadline

ARGUMENT_SPEC = {
    "namespace": {"type": "str"},
    "name": {"type": "str"},
    "kind": {"type": "str", "default": "StatefulSet", "choices": ["StatefulSet", "Deployment"]},
    "label_selectors": {"type": "list", "elements": "str"},
    "endpoints": {"type": "list", "elements": "str"},
    "replicas": {"type": "int"},
    "port": {"type": "int", "default": DEFAULT_PORT},
    "timeout": {"type": "int", "default": 300},
    "sleep": {"type": "float", "default": 1.0},
    "request_timeout": {"type": "float", "default": 5.0},
}
MUTUALLY_EXCLUSIVE = [("name", "label_selectors", "endpoints")]
REQUIRED_ONE_OF = [("name", "label_selectors", "endpoints")]


class HazelcastK8sError(DatastoresError):
    """A failure to report as the module's message, with what is known so far."""


def validate(params):
    """Errors that the argument spec cannot express, as one message naming the options (or None)."""
    problems = []
    if params.get("replicas") is not None and params["replicas"] < 1:
        problems.append("replicas must be at least 1, got %d" % params["replicas"])
    if params["timeout"] < 0:
        problems.append("timeout must be 0 or more seconds, got %d" % params["timeout"])
    if params["sleep"] <= 0:
        problems.append("sleep must be more than 0 seconds, got %s" % params["sleep"])
    if params["request_timeout"] <= 0:
        problems.append("request_timeout must be more than 0 seconds, got %s" % params["request_timeout"])
    if not 0 < params["port"] < 65536:
        problems.append("port must be 1-65535, got %d" % params["port"])
    if params.get("endpoints") is not None:
        if not params["endpoints"]:
            problems.append("endpoints must list at least one host:port")
        for endpoint in params["endpoints"]:
            try:
                host, port = parse_endpoint(endpoint)
                if not host or not 0 < port < 65536:
                    raise ValueError
            except (ValueError, TypeError):
                problems.append("endpoints entry %r is not host:port (or host, or [ipv6]:port)" % endpoint)
    elif not params.get("namespace"):
        problems.append("namespace is required with name or label_selectors")
    if params.get("label_selectors") is not None and params.get("replicas") is None:
        problems.append("replicas is required with label_selectors (the number of members expected)")
    return "; ".join(problems) or None


class ForwardTransport:
    """HttpTransport for endpoints named (pod, port): each goes through that pod's local port-forward.

    When a tunnel fails, the error says so and carries the port-forward's own reason (the API
    server's refusal or the pod's), instead of the bare closed connection the HTTP client sees.
    """

    def __init__(self, inner, pods):
        self.inner = inner
        self.members = {(member.name, member.forward.port): member for member in pods}

    def get(self, host, port, path, timeout):
        member = self.members.get((host, port))
        if member is None:
            return self.inner.get(host, port, path, timeout)
        member.forward.last_error = None
        try:
            return self.inner.get(member.address[0], member.address[1], path, timeout)
        except (OSError, http.client.HTTPException) as error:
            member.forward.raise_for(error, HazelcastK8sError,
                                     ", or the member's REST API (HEALTH_CHECK endpoint group) is disabled")
            raise


EMPTY_RESULT = {
    "healthy": False,
    "expected_size": None,
    "cluster_size": None,
    "member_addresses": [],
    "versions": [],
    "version": None,
    "clusters": [],
    "cluster_problems": [],
    "problems": [],
    "members": [],
    "pods": [],
    "polls": 0,
}


def _summary(result, pods_by_label=None):
    """The module's return values from a check_cluster result; ``pods_by_label`` names the pods."""
    pods_by_label = pods_by_label or {}
    summary = dict(EMPTY_RESULT)
    summary.update(result)
    for report in summary["members"]:
        report["pod"] = pods_by_label.get(report["endpoint"])
    summary["version"] = summary["versions"][0] if len(summary["versions"]) == 1 else None
    summary["pods"] = [report["pod"] for report in summary["members"] if report["pod"]]
    return summary


def _check(endpoints, expected, deadline, transport, params, check_mode):
    """check_cluster once (check mode) or until the deadline; returns (failure message or None, result)."""
    if check_mode:
        deadline = Deadline.one_round(params["request_timeout"])
    try:
        return None, check_cluster(endpoints, expected, deadline, interval=params["sleep"],
                                   request_timeout=params["request_timeout"], transport=transport)
    except HazelcastClusterError as error:
        return str(error), error.result


def run(params, check_mode=False, kube_factory=None):
    """Everything the module does; returns (failure message or None, result dict).

    In check mode nothing waits and nothing fails: the result says what the members see right now.
    """
    deadline = Deadline(params["timeout"])
    if params.get("endpoints"):
        expected = params["replicas"] or len(params["endpoints"])
        failure, result = _check(params["endpoints"], expected, deadline, HttpTransport(), params, check_mode)
        summary = _summary(result)
        summary.update(source="endpoints", workload=None)
    else:
        failure, summary = _check_pods(kube_factory(), params, deadline, check_mode)
    summary["elapsed"] = round(deadline.elapsed(), 3)
    return (None if check_mode else failure), summary


def _check_pods(kube, params, deadline, check_mode):
    try:
        workload = members.Workload(kube, params["namespace"], params["kind"], params.get("name"),
                                    params.get("label_selectors"), error=HazelcastK8sError)
    except HazelcastK8sError as error:
        if not check_mode:
            raise
        # In check mode the workload may be one that this run would have created.
        return None, dict(EMPTY_RESULT, expected_size=params.get("replicas"), problems=[str(error)],
                          source="port-forward", workload=None)
    expected = params["replicas"] if params.get("replicas") is not None else workload.replicas
    described = {"kind": None if params.get("label_selectors") else params["kind"], "name": params.get("name"),
                 "namespace": params["namespace"], "selector": workload.selector, "replicas": workload.replicas}
    pods, settled = workload.wait(members.settled(expected), deadline, check_mode)
    running = members.names(pods.pods)
    message = None
    if not settled:
        message = ("%s: %d running pod(s) after %.1fs, expected %d member(s); pods: %s"
                   % (workload.what, len(running), deadline.elapsed(), expected,
                      members.describe_pods(list(pods.pods.values()))))
        if not (check_mode and running):
            result = dict(EMPTY_RESULT, expected_size=expected, pods=running, problems=[message],
                          source="port-forward", workload=described)
            return message, result
    # In check mode the pods that run are asked even when there are too few or too many.
    failure, result = _check_through_forwards(kube, params, running, expected, deadline, check_mode)
    if failure:
        failure = "%s, members asked through port-forward to port %d: %s" % (workload.what, params["port"], failure)
    if message:
        result.update(healthy=False, problems=[message] + result["problems"])
    result.update(source="port-forward", workload=described)
    return failure, result


def _check_through_forwards(kube, params, names, expected, deadline, check_mode):
    """A local listener per pod that tunnels through the API server, then check_cluster over them."""
    port = params["port"]
    with members.forwarded(kube, params["namespace"], names, port) as pods:
        endpoints = [(name, port) for name in names]
        failure, result = _check(endpoints, expected, deadline, ForwardTransport(HttpTransport(), pods), params,
                                 check_mode)
    return failure, _summary(result, {endpoint_label((name, port)): name for name in names})
