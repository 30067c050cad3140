# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build images from the recipes in recipes/: a Debian base layer (cached) plus an artifact layer."""
import importlib
import os
import pathlib
import shutil
import tempfile
import time

from . import oci, rootfs

RECIPES_DIR = pathlib.Path(__file__).resolve().parent / "recipes"


def cache_root():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return pathlib.Path(os.environ.get("LOCALKUBE_CACHE", os.path.join(base, "localkube"))) / "images"


def recipe_names():
    return sorted(p.stem for p in RECIPES_DIR.glob("*.py") if not p.stem.startswith("_"))


def load(name):
    if name not in recipe_names():
        raise SystemExit("images: no recipe {!r}; recipes: {}".format(name, ", ".join(recipe_names())))
    return importlib.import_module("tools.images.recipes." + name)


def build(name):
    """Path of the OCI archive of recipe `name`; rebuilt only when a layer or the config changed."""
    recipe, cache, started = load(name), cache_root(), time.monotonic()
    layers = []
    if getattr(recipe, "PACKAGES", ()):
        layers.append(rootfs.base_layer(cache, recipe.PACKAGES, getattr(recipe, "VARIANT", "essential")))
    work = cache / "work"
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work) as scratch:
        tree = pathlib.Path(scratch) / "tree"
        tree.mkdir()
        recipe.populate(tree)
        layer_tar = pathlib.Path(scratch) / "layer.tar"
        descriptor = oci.write_layer(tree, layer_tar, getattr(recipe, "OWNERS", None))
        manifest, _blobs = oci.manifest_digest(recipe.IMAGE, layers + [descriptor], recipe.CONFIG)
        archive = cache / "archives" / "{}-{}.tar".format(name, manifest["digest"].split(":")[1][:16])
        if archive.exists():
            return archive
        kept = cache / "layers" / (descriptor["digest"].split(":")[1] + ".tar")
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(layer_tar), kept)
    descriptor["path"] = str(kept)
    archive.parent.mkdir(parents=True, exist_ok=True)
    for stale in archive.parent.glob(name + "-*.tar"):
        stale.unlink()
    oci.write_archive(recipe.IMAGE, layers + [descriptor], recipe.CONFIG, archive)
    kept.unlink()
    print("images: {} -> {} ({:.0f} MB, {:.1f}s)".format(recipe.IMAGE, archive.name, archive.stat().st_size / 1e6,
                                                        time.monotonic() - started), flush=True)
    return archive


def image_name(name):
    return load(name).IMAGE
