# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An API server in a dict (path -> object) that answers the calls of module_utils.k8s.client.Kube."""
import collections
import collections.abc
import copy

from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import KubeError


class Call(collections.namedtuple("Call", "method path query options")):
    """One request; call["name"] and "name" in call read its query."""

    def __getitem__(self, key):
        return self.query[key] if isinstance(key, str) else tuple.__getitem__(self, key)

    def __contains__(self, key):
        return key in self.query


class Named(collections.abc.MutableMapping):
    """The objects under one collection path (a kind in a namespace), by name."""

    def __init__(self, objects, collection):
        self.objects = objects
        self.prefix = collection + "/"

    def __getitem__(self, name):
        return self.objects[self.prefix + name]

    def __setitem__(self, name, obj):
        self.objects[self.prefix + name] = obj

    def __delitem__(self, name):
        del self.objects[self.prefix + name]

    def __iter__(self):
        return (path[len(self.prefix):] for path in list(self.objects) if path.startswith(self.prefix)
                and "/" not in path[len(self.prefix):])

    def __len__(self):
        return sum(1 for _name in self)


class FakeKube(object):
    """GET (missing_ok), LIST (an object stored at the collection path), POST creates, DELETE with a uid
    precondition, server-side apply; or, given a script, answers each request with its next entry (an object,
    a stream or an exception to raise), as LIST and WATCH do."""

    def __init__(self, objects=None, script=None):
        self.objects = copy.deepcopy(dict(objects or {}))
        self.script = None if script is None else list(script)
        self.calls = []
        self.applied = []
        self.created = []

    def named(self, collection):
        return Named(self.objects, collection)

    @property
    def queries(self):
        """(path, query) of every GET."""
        return [(call.path, call.query) for call in self.calls if call.method == "GET"]

    def request(self, method, path, query=None, body=None, **options):
        self.calls.append(Call(method, path, dict(query or {}), options))
        if self.script is not None:
            if not self.script:
                raise RuntimeError("asked for more than the script holds: {0}".format(self.calls))
            answer = self.script.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        if method == "GET":
            return self.read(path, options.get("missing_ok", False))
        if method == "POST":
            return self.create(path, body)
        if method == "DELETE":
            return self.remove(path, (body or {}).get("preconditions", {}).get("uid"), missing_ok=False)
        raise AssertionError("the fake does not answer {0} {1}".format(method, path))

    def get(self, path, query=None, missing_ok=False):
        return self.request("GET", path, query, missing_ok=missing_ok)

    def read(self, path, missing_ok):
        if path in self.objects:
            return copy.deepcopy(self.objects[path])
        if missing_ok:
            return None
        raise KubeError("GET {0}: not found (404)".format(path), status=404)

    def create(self, collection, body):
        path = collection + "/" + body["metadata"]["name"]
        if path in self.objects:
            raise KubeError("POST {0}: already exists (409)".format(path), status=409)
        metadata = dict(body["metadata"], uid="uid-1", resourceVersion="1")
        self.objects[path] = dict(copy.deepcopy(body), metadata=metadata)
        self.created.append(path)
        return copy.deepcopy(self.objects[path])

    def remove(self, path, uid, missing_ok):
        if path not in self.objects:
            if missing_ok:
                return None
            raise KubeError("DELETE {0}: not found (404)".format(path), status=404)
        if uid is not None and self.objects[path]["metadata"].get("uid") != uid:
            raise KubeError("DELETE {0}: uid precondition failed (409)".format(path), status=409)
        return self.objects.pop(path)

    def delete(self, path, missing_ok=True, propagation="Background", uid=None):
        self.calls.append(Call("DELETE", path, {}, {"propagation": propagation}))
        try:
            return self.remove(path, uid, missing_ok)
        except KubeError as error:
            if error.status != 409:
                raise
            return None

    def apply(self, path, obj, field_manager, force=False, dry_run=False):
        self.applied.append((path, field_manager, force))
        if not dry_run:
            self.objects[path] = copy.deepcopy(obj)
        return obj
