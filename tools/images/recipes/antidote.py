# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AntidoteDB 0.2.2 as the antidotedb/antidote image (AntidoteDB/docker-antidote) runs it.

The contract the role relies on: the release in /antidote, started in the foreground by the entrypoint,
which turns environment variables into the node's settings - NODE_NAME (with SHORT_NAME_PREFIX "" for
long names, "s" by default), COOKIE, RING_SIZE, PB_PORT 8087, PBSUB_PORT 8086, LOGREADER_PORT 8085,
HANDOFF_PORT 8099, METRICS_PORT 3001, DEBUG_LOGGER_LEVEL, ERLANG_DIST_PORT_MIN/MAX (the distribution
port; random when unset), the ANTIDOTE_* feature flags - and data and logs under ROOT_DIR_PREFIX
/antidote-data/ (DATA_DIR_PREFIX data/, LOGGER_DIR_PREFIX log/). Runs as root, as upstream does.
Differences: the release is built here from ../shared/vendor/antidote (tests/servers/antidote/release.py,
Debian's OTP 25 with its ERTS bundled) instead of upstream's erlang image; the generated vm.args and
sys.config go to /antidote-data/config (RELX_OUT_FILE_PATH) instead of the release directory, so the
release itself stays read-only; the entrypoint fills ERLANG_DIST_PORT_MIN/MAX only when they are set."""
import shutil

from tests.servers.antidote.release import ANTIDOTE_VERSION, ensure_release

IMAGE = "docker.io/antidotedb/antidote:" + ANTIDOTE_VERSION
# What the release's ERTS, crypto and erlzmq/prometheus NIFs link against, and what its start script runs.
PACKAGES = ("libzmq5", "libssl3", "libstdc++6", "libtinfo6", "zlib1g", "mawk")
HOME = "/antidote"
DEFAULTS = {
    "NODE_NAME": "antidote@antidote", "SHORT_NAME_PREFIX": "s", "COOKIE": "secret", "RING_SIZE": "16",
    "HANDOFF_PORT": "8099", "PB_PORT": "8087", "PBSUB_PORT": "8086", "LOGREADER_PORT": "8085",
    "METRICS_PORT": "3001", "DEBUG_LOGGER_LEVEL": "info", "ROOT_DIR_PREFIX": "/antidote-data/",
    "DATA_DIR_PREFIX": "data/", "LOGGER_DIR_PREFIX": "log/", "ANTIDOTE_TXN_CERT": "true",
    "ANTIDOTE_TXN_PROT": "clocksi", "ANTIDOTE_RECOVER_FROM_LOG": "true", "ANTIDOTE_SYNC_LOG": "false",
    "ANTIDOTE_ENABLE_LOGGING": "true", "ANTIDOTE_AUTO_START_READ_SERVERS": "true",
}
CONFIG = {
    "Entrypoint": [HOME + "/start-antidote"],
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"]
    + ["{}={}".format(name, value) for name, value in sorted(DEFAULTS.items())],
    "WorkingDir": HOME,
    "ExposedPorts": dict(("{}/tcp".format(port), {}) for port in (8085, 8086, 8087, 8099, 3001)),
    "Volumes": {"/antidote-data": {}},
}
START = """#!/bin/sh
# The upstream entrypoint: environment variables become the release's application settings.
set -e
mkdir -p "${ROOT_DIR_PREFIX}${DATA_DIR_PREFIX}" "${ROOT_DIR_PREFIX}${LOGGER_DIR_PREFIX}"
export RELX_OUT_FILE_PATH="${RELX_OUT_FILE_PATH:-${ROOT_DIR_PREFIX}config}"
mkdir -p "$RELX_OUT_FILE_PATH"
cp /antidote/releases/%(version)s/network.config "$RELX_OUT_FILE_PATH/"
[ -n "$ERLANG_DIST_PORT_MIN" ] && set -- -kernel inet_dist_listen_min "$ERLANG_DIST_PORT_MIN" "$@"
[ -n "$ERLANG_DIST_PORT_MAX" ] && set -- -kernel inet_dist_listen_max "$ERLANG_DIST_PORT_MAX" "$@"
cd "$ROOT_DIR_PREFIX"
exec /antidote/bin/antidote foreground \\
  -ranch pb_port "$PB_PORT" \\
  -antidote pubsub_port "$PBSUB_PORT" \\
  -antidote logreader_port "$LOGREADER_PORT" \\
  -antidote_stats metrics_port "$METRICS_PORT" \\
  -riak_core handoff_port "$HANDOFF_PORT" \\
  -riak_core ring_creation_size "$RING_SIZE" \\
  -kernel logger_level "$DEBUG_LOGGER_LEVEL" \\
  -antidote txn_cert "$ANTIDOTE_TXN_CERT" \\
  -antidote txn_prot "$ANTIDOTE_TXN_PROT" \\
  -antidote recover_from_log "$ANTIDOTE_RECOVER_FROM_LOG" \\
  -antidote sync_log "$ANTIDOTE_SYNC_LOG" \\
  -antidote enable_logging "$ANTIDOTE_ENABLE_LOGGING" \\
  -antidote auto_start_read_servers "$ANTIDOTE_AUTO_START_READ_SERVERS" \\
  "$@"
""" % {"version": ANTIDOTE_VERSION}


def populate(tree):
    home = tree / HOME.lstrip("/")
    shutil.copytree(ensure_release(), home, symlinks=True)
    (home / "start-antidote").write_text(START)
    (home / "start-antidote").chmod(0o755)
    (tree / "antidote-data").mkdir()
