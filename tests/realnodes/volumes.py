# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Local PersistentVolumes on the real nodes for one test: a StorageClass of its own, directories under the
profile's state directory (the nodes share the host's file system), removed with the test."""
import shutil
import uuid

from tests.helpers.cluster import apply, kubectl, kubectl_json

# The volumes are directories on this machine's one disk, shared with everything else on it: when that disk
# is more than 90% used, Elasticsearch 2.4's default watermarks (percentages of the whole disk) refuse the
# shards of every new index, the cluster turns red and loklak waits for yellow for ever (seen in CI).
# Watermarks in free bytes stop shard allocation only when the disk is really full.
DISK_WATERMARKS = {"cluster.routing.allocation.disk.watermark.low": "1gb",
                   "cluster.routing.allocation.disk.watermark.high": "512mb"}
# OpenSearch also has a flood stage, which must be in bytes too when the others are.
DISK_WATERMARKS_OPENSEARCH = dict(DISK_WATERMARKS, **{"cluster.routing.allocation.disk.watermark.flood_stage": "256mb"})


class LocalVolumes:
    def __init__(self, settings, per_node=2, size="2Gi"):
        self.name = "rn-" + uuid.uuid4().hex[:6]
        self.root = settings.home / "volumes" / self.name
        apply({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": self.name},
               "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "WaitForFirstConsumer",
               "reclaimPolicy": "Retain"})
        for index in range(settings.nodes):
            node = "localkube-node-{}".format(index)
            for number in range(per_node):
                path = self.root / "{}-{}".format(node, number)
                path.mkdir(parents=True)
                apply({"apiVersion": "v1", "kind": "PersistentVolume",
                       "metadata": {"name": "{}-{}-{}".format(self.name, index, number)},
                       "spec": {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"],
                                "persistentVolumeReclaimPolicy": "Retain", "storageClassName": self.name,
                                "local": {"path": str(path)}, "nodeAffinity": {"required": {"nodeSelectorTerms": [
                                    {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In",
                                                           "values": [node]}]}]}}}})

    def remove(self):
        names = [v["metadata"]["name"] for v in kubectl_json("get", "pv")["items"]
                 if v["spec"].get("storageClassName") == self.name]
        if names:
            kubectl("delete", "pv", "--wait=false", *names, check=False)
        kubectl("delete", "storageclass", self.name, "--ignore-not-found", check=False)
        shutil.rmtree(self.root, ignore_errors=True)
