# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base layers from Debian packages, made with mmdebstrap and cached by package list."""
import hashlib
import os
import shutil
import subprocess

from . import oci

SUITE = "bookworm"
# Documentation, manual pages and translations have no use in a container.
EXCLUDED = ("/usr/share/doc/*", "/usr/share/man/*", "/usr/share/locale/*", "/usr/share/info/*")


def base_layer(cache, packages, variant="essential"):
    """The layer of a Debian `variant` with `packages` installed (a descriptor); built once per input."""
    key = hashlib.sha256(repr((SUITE, variant, sorted(packages), EXCLUDED)).encode()).hexdigest()[:16]
    directory = cache / "rootfs" / key
    layer = directory / "layer.tar"
    if layer.exists():
        return oci.descriptor_of(layer)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    tree = directory / "tree"
    command = ["mmdebstrap", "--quiet", "--mode=root", "--variant=" + variant, "--include=" + ",".join(packages)]
    command += ["--dpkgopt=path-exclude=" + pattern for pattern in EXCLUDED]
    # update-alternatives links manual pages even when they are excluded: their directories must exist.
    command += ["--setup-hook=mkdir -p \"$1/usr/share/man/man1\""]
    print("images: mmdebstrap {} {} ...".format(variant, " ".join(packages)), flush=True)
    env = {k: v for k, v in os.environ.items() if k not in ("TMPDIR",)}
    subprocess.run(command + [SUITE, str(tree)], check=True, env=env)
    for cached in ("var/cache/apt", "var/lib/apt/lists"):
        shutil.rmtree(tree / cached, ignore_errors=True)
    descriptor = oci.write_layer(tree, str(layer) + ".partial")
    os.replace(str(layer) + ".partial", layer)
    shutil.rmtree(tree)
    return dict(descriptor, path=str(layer))
