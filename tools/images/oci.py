# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OCI image archives (`ctr images import`) from plain directories: one uncompressed layer per directory.

Layers are reproducible (sorted entries, mtime 0), so the same inputs give the same digests and the
same layer is stored once by containerd whatever image brings it."""
import hashlib
import io
import json
import os
import tarfile

SKIPPED = ("dev", "proc", "sys")


def _entries(directory):
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        relative_root = os.path.relpath(root, directory)
        if relative_root == ".":
            for name in SKIPPED:
                if name in dirs:
                    yield os.path.join(root, name)
            dirs[:] = [d for d in dirs if d not in SKIPPED]
        for name in sorted(dirs) + sorted(files):
            yield os.path.join(root, name)


def _owner(arcname, owners):
    """(uid, gid) of the longest prefix in `owners` that holds arcname; None when none does."""
    found = [prefix for prefix in owners if arcname == prefix or arcname.startswith(prefix + "/")]
    return owners[max(found, key=len)] if found else None


def write_layer(directory, out_path, owners=None):
    """Write `directory` as a layer tar at out_path; return its descriptor. `owners` maps paths (relative,
    such as usr/share/opensearch) to the (uid, gid) that owns them and everything below; the rest keeps the
    owner it has in `directory`."""
    with tarfile.open(out_path, "w", format=tarfile.PAX_FORMAT) as tar:
        for path in _entries(directory):
            info = tar.gettarinfo(path, arcname=os.path.relpath(path, directory))
            info.mtime = 0
            info.uname = info.gname = ""
            owner = _owner(info.name, owners or {})
            if owner:
                info.uid, info.gid = owner
            if info.isreg():
                with open(path, "rb") as handle:
                    tar.addfile(info, handle)
            else:
                tar.addfile(info)
    return descriptor_of(out_path)


def descriptor_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + digest.hexdigest(),
            "size": os.path.getsize(path), "path": str(path)}


def _json_blob(value, media_type):
    data = json.dumps(value, sort_keys=True).encode()
    return data, {"mediaType": media_type, "digest": "sha256:" + hashlib.sha256(data).hexdigest(), "size": len(data)}


def manifest_digest(name, layers, config):
    """(manifest digest, blobs) of an image made of `layers` (descriptors) with container `config`."""
    image_config = {"architecture": "amd64", "os": "linux", "config": config,
                    "rootfs": {"type": "layers", "diff_ids": [layer["digest"] for layer in layers]}}
    config_data, config_descriptor = _json_blob(image_config, "application/vnd.oci.image.config.v1+json")
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": config_descriptor,
                "layers": [{k: v for k, v in layer.items() if k != "path"} for layer in layers],
                "annotations": {"org.opencontainers.image.ref.name": name}}
    manifest_data, manifest_descriptor = _json_blob(manifest, "application/vnd.oci.image.manifest.v1+json")
    return manifest_descriptor, [(config_descriptor, config_data), (manifest_descriptor, manifest_data)]


def write_archive(name, layers, config, out_path):
    manifest_descriptor, blobs = manifest_digest(name, layers, config)
    partial = str(out_path) + ".partial"
    with tarfile.open(partial, "w") as tar:
        for layer in layers:
            tar.add(layer["path"], arcname="blobs/sha256/" + layer["digest"].split(":", 1)[1])
        for descriptor, data in blobs:
            _add_bytes(tar, "blobs/sha256/" + descriptor["digest"].split(":", 1)[1], data)
        entry = dict(manifest_descriptor, annotations={"io.containerd.image.name": name,
                                                       "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1]})
        index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [entry]}
        _add_bytes(tar, "index.json", json.dumps(index).encode())
        _add_bytes(tar, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    os.replace(partial, out_path)


def _add_bytes(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))
