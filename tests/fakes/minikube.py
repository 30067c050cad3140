# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake `minikube` for the tests of the stateful.datastores.minikube role.

minikube cannot run in this project's CI (no VM, no container runtime), so the role's decisions
are tested against this stand-in. It understands the handful of sub-commands the role uses and
answers them from a JSON state file; it never starts anything.

Environment:
  FAKE_MINIKUBE_LOG    file that gets one JSON line per call: {"argv": [...], "env": {...}}
  FAKE_MINIKUBE_STATE  JSON state file, read before and written after every mutating call:
      {"version": "v1.37.0",
       "available_addons": ["dashboard", ...],
       "default_addons": ["default-storageclass", "storage-provisioner"],
       "endpoint_moved": false,            # next update-context reports an endpoint change
       "profiles": {"<name>": {"Status": "Running", "ActiveKubeContext": true,
                               "Config": {<minikube ClusterConfig subset>}}}}

Output shapes follow minikube: `profile list -o json` prints {"invalid": [], "valid": [Profile]}
where Profile has Name, Status, Config (ClusterConfig: Driver, CPUs, Memory, DiskSize,
InsecureRegistry, KubernetesConfig.KubernetesVersion, Addons), Active and ActiveKubeContext;
`addons list -o json` prints {"<addon>": {"Profile": "<name>", "Status": "enabled|disabled"}}.
"""
import json
import os
import sys

RECORDED_ENV = ("MINIKUBE_HOME", "KUBECONFIG", "MINIKUBE_IN_STYLE", "MINIKUBE_WANTUPDATENOTIFICATION")

DEFAULT_STATE = {
    "version": "v1.37.0",
    "available_addons": ["dashboard", "default-storageclass", "ingress", "metrics-server", "registry",
                         "storage-provisioner", "volumesnapshots", "csi-hostpath-driver"],
    "default_addons": ["default-storageclass", "storage-provisioner"],
    "endpoint_moved": False,
    "profiles": {},
}

# minikube refuses these changes on an existing cluster (it warns and keeps the old value).
IMMUTABLE = {"driver": "Driver", "cpus": "CPUs", "memory": "Memory", "disk-size": "DiskSize"}


class Usage(Exception):
    """A command line the fake (and minikube) would not accept."""


def load_state(path):
    state = json.loads(json.dumps(DEFAULT_STATE))
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            state.update(json.load(handle))
    return state


def save_state(path, state):
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(state, handle, indent=2, sort_keys=True)


def record(argv):
    path = os.environ.get("FAKE_MINIKUBE_LOG")
    if not path:
        return
    env = {k: os.environ[k] for k in RECORDED_ENV if k in os.environ}
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"argv": argv, "env": env}) + "\n")


def parse_flags(args):
    """Split `--key=value` flags (repeatable) from positional arguments."""
    flags, positional = {}, []
    for arg in args:
        if arg.startswith("--"):
            key, sep, value = arg[2:].partition("=")
            if not sep:
                raise Usage("flag --{key} needs a value (use --{key}=VALUE)".format(key=key))
            flags.setdefault(key, []).append(value)
        elif arg.startswith("-"):
            raise Usage("short flags are not used by the role: " + arg)
        else:
            positional.append(arg)
    return flags, positional


def one(flags, key, default=None):
    values = flags.get(key)
    return values[-1] if values else default


def size_mb(text):
    text = text.lower()
    for suffix, factor in (("mb", 1), ("m", 1), ("gb", 1024), ("g", 1024)):
        if text.endswith(suffix):
            return int(text[: -len(suffix)]) * factor
    return int(text)


def profile_name(flags):
    return one(flags, "profile", "minikube")


def cmd_version(state, flags, _positional):
    if one(flags, "short") == "true" or "short" in flags:
        print(state["version"])
    else:
        print("minikube version: {}\ncommit: fake".format(state["version"]))
    return 0


def cmd_profile(state, flags, positional):
    if positional != ["list"] or one(flags, "output") != "json":
        raise Usage("only `profile list --output=json` is supported")
    valid = []
    for name, profile in sorted(state["profiles"].items()):
        valid.append({"Name": name, "Status": profile.get("Status", "Running"), "Config": profile["Config"],
                      "Active": False, "ActiveKubeContext": profile.get("ActiveKubeContext", True)})
    print(json.dumps({"invalid": [], "valid": valid}))
    return 0


def cmd_start(state, flags, _positional):
    name = profile_name(flags)
    profile = state["profiles"].get(name)
    if profile is not None:
        config = profile["Config"]
        wanted = {"driver": one(flags, "driver"), "cpus": one(flags, "cpus"), "memory": one(flags, "memory"),
                  "disk-size": one(flags, "disk-size")}
        for flag, field in IMMUTABLE.items():
            value = wanted[flag]
            if value is None:
                continue
            value = size_mb(value) if flag in ("memory", "disk-size") else (int(value) if flag == "cpus" else value)
            if value != config[field]:
                print("! You cannot change the {} for an existing minikube cluster. Please first delete the cluster."
                      .format(field), file=sys.stderr)
        profile["Status"] = "Running"
        profile["ActiveKubeContext"] = True
        print('* Done! kubectl is now configured to use "{}" cluster'.format(name))
        return 0
    addons = {a: True for a in state["default_addons"]}
    for addon in flags.get("addons", []):
        if addon not in state["available_addons"]:
            print("X Exiting due to MK_ADDON_ENABLE: addon {} is not a valid addon".format(addon), file=sys.stderr)
            return 10
        addons[addon] = True
    state["profiles"][name] = {
        "Status": "Running",
        "ActiveKubeContext": True,
        "Config": {
            "Name": name,
            "Driver": one(flags, "driver", "docker"),
            "CPUs": int(one(flags, "cpus", "2")),
            "Memory": size_mb(one(flags, "memory", "4000mb")),
            "DiskSize": size_mb(one(flags, "disk-size", "20000mb")),
            "InsecureRegistry": flags.get("insecure-registry") or None,
            "KubernetesConfig": {"KubernetesVersion": one(flags, "kubernetes-version", "v1.34.0"),
                                 "ClusterName": name},
            "Addons": addons,
        },
    }
    print('* Done! kubectl is now configured to use "{}" cluster'.format(name))
    return 0


def cmd_delete(state, flags, _positional):
    name = profile_name(flags)
    state["profiles"].pop(name, None)
    print('* Removed all traces of the "{}" cluster.'.format(name))
    return 0


def not_found(name):
    print('* Profile "{0}" not found. Run "minikube profile list" to view all profiles.'.format(name),
          file=sys.stderr)
    return 85


def cmd_addons(state, flags, positional):
    name = profile_name(flags)
    profile = state["profiles"].get(name)
    if positional == ["list"]:
        if one(flags, "output") != "json":
            raise Usage("only `addons list --output=json` is supported")
        if profile is None:
            return not_found(name)
        enabled = profile["Config"].get("Addons") or {}
        print(json.dumps({a: {"Profile": name, "Status": "enabled" if enabled.get(a) else "disabled"}
                          for a in sorted(state["available_addons"])}))
        return 0
    if len(positional) != 2 or positional[0] not in ("enable", "disable"):
        raise Usage("addons: expected `addons list|enable NAME|disable NAME`")
    if profile is None:
        return not_found(name)
    action, addon = positional
    if addon not in state["available_addons"]:
        print("X Exiting due to MK_ADDON_ENABLE: {} is not a valid addon".format(addon), file=sys.stderr)
        return 10
    profile["Config"].setdefault("Addons", {})[addon] = action == "enable"
    print("* The '{}' addon is {}d".format(addon, action))
    return 0


def cmd_update_context(state, flags, _positional):
    name = profile_name(flags)
    profile = state["profiles"].get(name)
    if profile is None or profile.get("Status") != "Running":
        return not_found(name)
    if state.get("endpoint_moved"):
        state["endpoint_moved"] = False
        print('* "{}" context has been updated to point to 127.0.0.1:32771'.format(name))
    else:
        print('* No changes required for the "{}" context'.format(name))
    profile["ActiveKubeContext"] = True
    print('* Current context is "{}"'.format(name))
    return 0


COMMANDS = {
    "version": (cmd_version, False),
    "profile": (cmd_profile, False),
    "start": (cmd_start, True),
    "delete": (cmd_delete, True),
    "addons": (cmd_addons, True),
    "update-context": (cmd_update_context, True),
}


def main(argv):
    record(argv)
    if not argv or argv[0] not in COMMANDS:
        print("fake minikube: unsupported command: {}".format(argv), file=sys.stderr)
        return 64
    handler, mutating = COMMANDS[argv[0]]
    state_path = os.environ.get("FAKE_MINIKUBE_STATE")
    state = load_state(state_path)
    # `version --short` is a boolean flag in minikube; accept it without a value.
    args = ["--short=true" if a == "--short" else a for a in argv[1:]]
    try:
        flags, positional = parse_flags(args)
        code = handler(state, flags, positional)
    except Usage as exc:
        print("fake minikube: " + str(exc), file=sys.stderr)
        return 64
    if mutating and code == 0:
        save_state(state_path, state)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
