# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AntidoteDB 0.2.2 release, built offline from the vendored source bundle.

The bundle (../shared/vendor/antidote/) holds AntidoteDB and every dependency its rebar.lock
names, as source. The build puts the dependencies in _checkouts/ so rebar3 never fetches, removes
the rebar3 plugins that only come from hex, compiles erlzmq's NIF against Debian's libzmq (its own
Makefile downloads zeromq) and runs `rebar3 release`. The result is cached under
~/.cache/antidote/<sha256 of the inputs>/release and reused while the inputs stay the same.
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile

ANTIDOTE_VERSION = "0.2.2"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DEFAULT_BUNDLE = os.path.join(os.path.dirname(REPO), "shared", "vendor", "antidote",
                              "antidote-offline-bundle.tar.gz")
DEPENDENCIES = ("erlzmq", "prometheus_process_collector", "prometheus", "elli", "elli_prometheus",
                "accept", "ranch", "poolboy", "quantile_estimator", "riak_core")
UMBRELLA_APPS = ("antidote_crdt", "antidote_stats", "antidote_pb_codec", "vectorclock")
DEBIAN_PACKAGES = ("erlang-nox", "erlang-dev", "erlang-src", "rebar3", "libzmq3-dev",
                   "build-essential", "pkg-config")
# The erlzmq override of the umbrella wants the `pc` port compiler from hex; the NIF is built
# before rebar3 runs instead, so erlzmq gets no hooks at all.
OVERRIDES = """{overrides, [
    {override, erlzmq, [{pre_hooks, []}, {post_hooks, []}, {plugins, []}, {provider_hooks, []}]},
    {override, prometheus_process_collector, [{plugins, []}]},
    {override, accept, [{plugins, []}]}
]}.
"""


class AntidoteBuildError(RuntimeError):
    pass


def bundle_path():
    return os.environ.get("ANTIDOTE_BUNDLE", DEFAULT_BUNDLE)


def cache_root():
    return os.environ.get("ANTIDOTE_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "antidote"))


def _tool_version(command):
    try:
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise AntidoteBuildError("antidote: cannot run %s (%s); install the Debian packages %s"
                                 % (command[0], error, " ".join(DEBIAN_PACKAGES))) from error
    return result.stdout.strip()


def input_digest(bundle):
    """sha256 over the bundle, this build recipe and the Erlang/OTP and libzmq it builds against."""
    digest = hashlib.sha256()
    with open(bundle, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    with open(os.path.abspath(__file__), "rb") as handle:
        digest.update(handle.read())
    digest.update(_tool_version(["erl", "-noshell", "-eval",
                                 "io:format(\"~s\", [erlang:system_info(otp_release)]), halt()."]).encode())
    digest.update(_tool_version(["pkg-config", "--modversion", "libzmq"]).encode())
    return digest.hexdigest()


def _rewrite(path, edit):
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(edit(text))


def _drop_term(name):
    """Remove a top-level `{name, ...}.` term (from its line start to the next top-level end)."""
    pattern = re.compile(r"^\{%s,.*?\}\.[ \t]*\n" % re.escape(name), re.S | re.M)
    return lambda text: pattern.sub("", text)


def _plain_umbrella_deps(text):
    return re.sub(r"\{(%s), \{path, \"[^\"]*\"\}\}" % "|".join(UMBRELLA_APPS), r"\1", text)


def patch_offline(source):
    """Edit the unpacked tree so that rebar3 needs neither hex nor GitHub."""
    def top(text):
        text = _drop_term("project_plugins")(text)
        return re.sub(r"^\{overrides, \[.*?^\]\}\.\n", lambda _match: OVERRIDES, text, flags=re.S | re.M)

    _rewrite(os.path.join(source, "rebar.config"), top)
    for app in ("antidote", "antidotec_pb", "antidote_crdt"):
        path = os.path.join(source, "apps", app, "rebar.config")
        _rewrite(path, lambda text: _plain_umbrella_deps(
            _drop_term("overrides")(_drop_term("plugins")(_drop_term("project_plugins")(text)))))
    for dependency in ("accept", "prometheus_process_collector", "riak_core", "elli", "elli_prometheus"):
        path = os.path.join(source, "_checkouts", dependency, "rebar.config")
        _rewrite(path, lambda text: _drop_term("provider_hooks")(
            _drop_term("plugins")(_drop_term("project_plugins")(text))))
    with open(os.path.join(source, "_checkouts", "erlzmq", "rebar.config"), "w", encoding="utf-8") as handle:
        handle.write("{erl_opts, [debug_info]}.\n")


def _erts_include():
    return _tool_version(["erl", "-noshell", "-eval",
                          "io:format(\"~s/erts-~s/include\", [code:root_dir(), erlang:system_info(version)]), halt()."])


def build_erlzmq_nif(erlzmq):
    flags = _tool_version(["pkg-config", "--cflags", "--libs", "libzmq"]).split()
    os.makedirs(os.path.join(erlzmq, "priv"), exist_ok=True)
    c_src = os.path.join(erlzmq, "c_src")
    command = [os.environ.get("CC", "cc"), "-O2", "-fPIC", "-shared", "-I", c_src, "-I", _erts_include(),
               os.path.join(c_src, "erlzmq_nif.c"), os.path.join(c_src, "vector.c"),
               "-o", os.path.join(erlzmq, "priv", "erlzmq_drv.so")] + flags
    _run(command, erlzmq, "compiling the erlzmq NIF against libzmq")


def _run(command, cwd, what, env=None):
    result = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join(result.stdout.splitlines()[-30:])
        raise AntidoteBuildError("antidote: %s failed (exit %d):\n%s" % (what, result.returncode, tail))
    return result.stdout


def _unpack(bundle, work):
    with tarfile.open(bundle) as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(work, filter="data")
        else:
            archive.extractall(work)  # noqa: S202 (our own vendored bundle, Python < 3.12)
    sources = os.path.join(work, "bundle", "src")
    antidote = os.path.join(sources, "antidote")
    checkouts = os.path.join(antidote, "_checkouts")
    os.makedirs(checkouts)
    for dependency in DEPENDENCIES:
        os.rename(os.path.join(sources, dependency), os.path.join(checkouts, dependency))
    return antidote


def release_dir(digest):
    return os.path.join(cache_root(), digest, "release")


def ensure_release(bundle=None, out=sys.stderr):
    """Return the directory of the built release (with bin/antidote), building it when absent."""
    bundle = bundle or bundle_path()
    if not os.path.isfile(bundle):
        raise AntidoteBuildError("antidote: the source bundle %s is absent" % bundle)
    digest = input_digest(bundle)
    release = release_dir(digest)
    if os.path.isfile(os.path.join(release, "bin", "antidote")):
        print("antidote: reusing %s" % release, file=out)
        return release
    if shutil.which("rebar3") is None:
        raise AntidoteBuildError("antidote: rebar3 is not on PATH; install the Debian packages %s"
                                 % " ".join(DEBIAN_PACKAGES))
    print("antidote: building release %s from %s ..." % (ANTIDOTE_VERSION, bundle), file=out, flush=True)
    work = os.path.join(cache_root(), digest, "work.%d" % os.getpid())
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    try:
        source = _unpack(bundle, work)
        patch_offline(source)
        build_erlzmq_nif(os.path.join(source, "_checkouts", "erlzmq"))
        home = os.path.join(work, "home")
        os.makedirs(home)
        env = dict(os.environ, HOME=home, REBAR_OFFLINE="1", REBAR_CACHE_DIR=os.path.join(home, "rebar3"))
        _run(["rebar3", "release"], source, "rebar3 release", env=env)
        built = os.path.join(source, "_build", "default", "rel", "antidote")
        staged = release + ".tmp.%d" % os.getpid()
        shutil.copytree(built, staged, symlinks=True)
        os.replace(staged, release)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("antidote: built %s" % release, file=out, flush=True)
    return release


if __name__ == "__main__":
    print(ensure_release())
