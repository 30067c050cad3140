# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A coordination.k8s.io Lease as a lock: admin steps that two runs must not do at once (two site.yml runs,
or an AWX job launched twice) take it first; the second run waits, then finds the work done.

The holder is this process; the lease lasts the step's own timeout plus a margin, so a run that dies
holding it blocks others no longer than that. Taking an expired lease replaces it at its resourceVersion:
of two runs that try at once, the API server lets one win (409 for the other)."""
import contextlib
import os
import socket
import time
from datetime import datetime, timedelta, timezone

from ansible_collections.stateful.datastores.plugins.module_utils.errors import DatastoresError
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import KubeError
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.resources import collection_path, object_path
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.verdict import parse_time

MARGIN_S = 60
POLL_S = 1.0


class LeaseTimeout(DatastoresError):
    pass


def _path(namespace, name=None):
    return object_path("Lease", namespace, name) if name else collection_path("Lease", namespace)


def _now():
    return datetime.now(timezone.utc)


def _micro(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _expired(lease, now):
    spec = lease.get("spec") or {}
    renewed = parse_time(spec.get("renewTime") or spec.get("acquireTime"))
    return renewed is None or renewed + timedelta(seconds=int(spec.get("leaseDurationSeconds") or 0)) < now


def _lease(namespace, name, holder, seconds, resource_version=None):
    now = _micro(_now())
    metadata = {"name": name, "namespace": namespace,
                "labels": {"app.kubernetes.io/managed-by": "stateful.datastores"}}
    if resource_version:
        metadata["resourceVersion"] = resource_version
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata,
            "spec": {"holderIdentity": holder, "leaseDurationSeconds": seconds, "acquireTime": now, "renewTime": now}}


def _try_take(kube, namespace, name, holder, seconds):
    """The lease's uid when this process took it; None while another holder's lease is current."""
    try:
        return kube.request("POST", _path(namespace), body=_lease(namespace, name, holder, seconds),
                            retry=False)["metadata"]["uid"]
    except KubeError as error:
        if error.status != 409:
            raise
    current = kube.get(_path(namespace, name), missing_ok=True)
    if current is None or not _expired(current, _now()):
        return None
    try:
        return kube.request("PUT", _path(namespace, name), retry=False, body=_lease(
            namespace, name, holder, seconds, current["metadata"]["resourceVersion"]))["metadata"]["uid"]
    except KubeError as error:
        if error.status in (404, 409):
            return None
        raise


def _acquire(kube, namespace, name, seconds, what, warnings):
    """The uid of the Lease once this process holds it; None when these credentials may not create it."""
    holder = "{0}/{1}".format(socket.gethostname(), os.getpid())
    deadline = time.monotonic() + seconds
    while True:
        try:
            uid = _try_take(kube, namespace, name, holder, int(seconds) + MARGIN_S)
        except KubeError as error:
            if error.status != 403:
                raise
            warnings.append("{0} ran without the Lease {1}/{2} that keeps two runs from acting at once: these "
                            "credentials may not create it (grant get, create, update and delete on "
                            "coordination.k8s.io leases in {1})".format(what, namespace, name))
            return None
        if uid:
            return uid
        if time.monotonic() >= deadline:
            current = kube.get(_path(namespace, name), missing_ok=True) or {}
            raise LeaseTimeout("{0} waited {1:.0f} s for Lease {2}/{3}, held by {4} (another run doing the same "
                               "step); it is released when that run ends, or expires by itself".format(
                                   what, seconds, namespace, name,
                                   (current.get("spec") or {}).get("holderIdentity", "?")))
        time.sleep(POLL_S)


@contextlib.contextmanager
def held(kube, namespace, name, seconds, what, warnings):
    """Hold Lease namespace/name for at most `seconds` (+ margin) while the block runs, which gets the
    seconds spent waiting for another holder (at most `seconds`). `what` names the step in the error.
    Credentials that may not create Leases run the block unprotected, with a warning added to `warnings`."""
    started = time.monotonic()
    uid = _acquire(kube, namespace, name, seconds, what, warnings)
    if uid is None:
        yield 0.0
        return
    try:
        yield time.monotonic() - started
    finally:
        try:
            kube.delete(_path(namespace, name), uid=uid)
        except KubeError:
            pass  # another run took it over after it expired, or the namespace is going: nothing to release
