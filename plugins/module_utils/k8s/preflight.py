# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only checks a role runs before its first write or k8s_objects lookup.

The API server is reachable with the role's credentials, the namespace exists when the role may not
create it, objects the input names exist (`present`) and objects that would conflict do not
(`absent`). Every problem is collected, so that one run names all of them.
"""
from ansible_collections.stateful.datastores.plugins.module_utils.errors import DatastoresError
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.client import KubeError
from ansible_collections.stateful.datastores.plugins.module_utils.k8s.resources import ResourceCatalog, object_path


class PreflightError(DatastoresError):
    """Some checks failed; ``result`` has every problem found."""


def _exists(kube, catalog, spec, default_namespace):
    resource = catalog.lookup(spec["kind"], spec.get("api_version"))
    namespace = (spec.get("namespace") or default_namespace) if resource.namespaced else None
    return kube.get(resource.object_path(spec["name"], namespace), missing_ok=True) is not None


def _namespace_problem(kube, namespace):
    if not namespace or not namespace.get("name") or namespace.get("create", True):
        return None
    if kube.get(object_path("Namespace", None, namespace["name"]), missing_ok=True) is not None:
        return None
    name = namespace["name"]
    variable = namespace.get("variable") or "namespace"
    create_variable = namespace.get("create_variable") or "create_namespace"
    return ("namespace {name} ({variable}) does not exist and {create} is false: create it first "
            "(kubectl create namespace {name}), set {create}: true, or set {variable} to an existing namespace"
            .format(name=name, variable=variable, create=create_variable))


def check(kube, params):
    """Returns the result dict; raises PreflightError naming every problem, KubeError when the API fails."""
    version = kube.request("GET", "/version")
    result = {"changed": False, "server_version": version.get("gitVersion", "")}
    namespace = params.get("namespace") or {}
    problems = []
    found = _namespace_problem(kube, namespace)
    if found:
        problems.append(found)
    catalog = ResourceCatalog(kube)
    warnings = []
    for wanted, specs in ((True, params.get("present") or []), (False, params.get("absent") or [])):
        for spec in specs:
            try:
                found = _exists(kube, catalog, spec, namespace.get("name"))
            except KubeError as error:
                if error.status != 403:
                    raise
                # A deployer without read access to this kind (least privilege) skips the check, saying so.
                warnings.append("could not check {} {} (403 Forbidden), skipped: {}".format(
                    spec["kind"], spec["name"], spec["msg"]))
                continue
            if found != wanted:
                problems.append(spec["msg"])
    if problems:
        raise PreflightError("; ".join(problems), dict(result, problems=problems, warnings=warnings))
    result.update(problems=[], warnings=warnings)
    return result
