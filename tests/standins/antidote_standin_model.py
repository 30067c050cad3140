# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a set of Antidote nodes knows: rings (DCs), descriptors, subscriptions, dc count.

Follows /work/shared/reference/antidote.md: every node boots as a one-node ring whose
cluster name {Node, Timestamp} is its DC id; createDC joins single nodes to the receiver's
ring and skips members; descriptors list [{Ip, 8086}] publishers per member and one
{[PartitionIds], [{Ip, 8085}]} log reader tuple per member (sorted by node name), each IP twice
(the node name's host and the pod interface), as the real 0.2.2 server sends them;
connectToDCs stores (by DC id) the descriptors it could subscribe to, its own included, and
answers success even when one could not be reached; antidote_dc_count counts the stored ones,
and 1 (itself) before any connectToDCs, as the real server does once it has measured. Last-writer-wins registers written in a DC
are read in every DC that receives from it.
Failures of the cluster calls are `Aborted`, which the server turns into errorcode 3.
"""
import itertools
import threading
import time

from .antidote_standin_wire import Atom, WireError, binary_to_term, term_to_binary

PUBSUB_PORT = 8086
LOGREADER_PORT = 8085
_unique = itertools.count()


class Aborted(Exception):
    """The handler's try/catch turned this failure into success=false, errorcode=aborted."""


class Ring:
    def __init__(self, founder, partitions):
        now = time.time()
        micro = (int(now * 1e6) + next(_unique)) % 1000000  # unique even within one microsecond
        self.cluster_name = (Atom(founder.name), (int(now) // 1000000, int(now) % 1000000, micro))
        self.members = [founder]
        self.partitions = partitions
        self.stored = {}  # DC id -> descriptor term: dc_meta_data_utilities external_descriptors
        self.busy_until = 0.0  # rebalancing after a join: the ring is not ready


class Node:
    def __init__(self, name, ip, dc, partitions):
        self.name = name
        self.ip = ip
        self.dc = dc
        self.starting_until = 0.0
        self.ring = Ring(self, partitions)


def ip_tuple(ip):
    return tuple(int(part) for part in ip.split("."))


class AntidoteModel:
    def __init__(self, layout, ring_size=16, old_protocol=False, clock=time.monotonic):
        """layout: [(dc name, [(node name, ip)])]; the first node of a DC is its manager node."""
        self.lock = threading.RLock()
        self.clock = clock
        self.old_protocol = old_protocol
        self.nodes = {}
        self.dcs = {}
        self.blocked = set()
        self.writes = []  # (writer DC, bucket, key, value), oldest first
        for dc, members in layout:
            self.dcs[dc] = [name for name, _ip in members]
            for name, ip in members:
                self.nodes[name] = Node(name, ip, dc, ring_size)

    # -- state helpers (call with the lock held)

    def _starting(self, node):
        return self.clock() < node.starting_until

    def _ring_busy(self, ring):
        return self.clock() < ring.busy_until or any(self._starting(member) for member in ring.members)

    def _ring_of(self, dc):
        return self.nodes[self.dcs[dc][0]].ring

    def _rings(self):
        seen = {}
        for node in self.nodes.values():
            seen[id(node.ring)] = node.ring
        return list(seen.values())

    def _addresses(self, ring, port):
        members = sorted(ring.members, key=lambda member: member.name)
        return [[(ip_tuple(member.ip), port), (ip_tuple(member.ip), port)] for member in members]

    def _log_readers(self, ring):
        addresses = self._addresses(ring, LOGREADER_PORT)
        count = len(addresses)
        return [(list(range(index, ring.partitions, count)), node) for index, node in enumerate(addresses)]

    def _descriptor_term(self, ring):
        return (Atom("descriptor"), ring.cluster_name, ring.partitions,
                self._addresses(ring, PUBSUB_PORT), self._log_readers(ring))

    def _reachable(self, term):
        """The DC a descriptor names, if a subscriber can reach it at the addresses it lists."""
        for ring in self._rings():
            if ring.cluster_name == term[1]:
                dc_blocked = any(member.dc in self.blocked for member in ring.members)
                current = self._addresses(ring, PUBSUB_PORT) == term[3]
                return ring if current and not dc_blocked else None
        return None

    # -- the three cluster calls

    def create_dc(self, receiver, names):
        """Returns the number of nodes that joined."""
        with self.lock:
            node = self.nodes[receiver]
            ring = node.ring
            if self._ring_busy(ring):
                raise Aborted("ring_not_ready")
            member_names = [member.name for member in ring.members]
            new = [name for name in dict.fromkeys(names) if name not in member_names]
            if not new and self.old_protocol:
                raise Aborted("0.2.0: createDC on an existing ring fails")
            joining = [self._joinable(name, ring) for name in new]
            for member in joining:
                member.ring = ring
                ring.members.append(member)
            return len(joining)

    def _joinable(self, name, ring):
        node = self.nodes.get(name)
        if node is None:
            raise Aborted("pang: {0} does not answer".format(name))
        if self._starting(node):
            raise Aborted("node_still_starting")
        if len(node.ring.members) > 1:
            raise Aborted("not_single_node")
        if node.ring.partitions != ring.partitions:
            raise Aborted("different_ring_sizes")
        return node

    def mark_rebalancing(self, receiver, seconds):
        with self.lock:
            self.nodes[receiver].ring.busy_until = self.clock() + seconds

    def descriptor(self, receiver):
        with self.lock:
            ring = self.nodes[receiver].ring
            if self._ring_busy(ring):
                raise Aborted("vnodes not running on every node")
            return term_to_binary(self._descriptor_term(ring))

    def connect(self, receiver, blobs):
        """Returns the number of descriptors that could not be subscribed to."""
        try:
            terms = [binary_to_term(blob) for blob in blobs]
        except WireError as error:
            raise Aborted(str(error)) from None
        if not all(isinstance(term, tuple) and len(term) == 5 and term[0] == "descriptor" for term in terms):
            raise Aborted("function_clause: not a descriptor")
        with self.lock:
            ring = self.nodes[receiver].ring
            if self._ring_busy(ring):
                raise Aborted("vnodes not running on every node")
            failed = 0
            for term in terms:
                if term[2] != ring.partitions:
                    failed += 1  # partition_num_mismatch: logged, not stored
                elif term[1] == ring.cluster_name or self._reachable(term) is not None:
                    ring.stored[term[1]] = term
                else:
                    # connection_error after the zmq probes: add_dc dropped the old subscription first,
                    # and the DC is forgotten, so a stale copy no longer counts
                    ring.stored.pop(term[1], None)
                    failed += 1
            return failed

    def dc_count(self, node_name):
        with self.lock:
            return len(self.nodes[node_name].ring.stored) or 1

    # -- last-writer-wins registers (the replication probe)

    def write_register(self, node_name, bucket, key, value):
        with self.lock:
            self.writes.append((self.nodes[node_name].dc, bucket, key, value))

    def read_register(self, node_name, bucket, key):
        with self.lock:
            reader = self.nodes[node_name].dc
            for writer, written_bucket, written_key, value in reversed(self.writes):
                if (written_bucket, written_key) == (bucket, key) and (
                        writer == reader or self.receives_from(reader, writer)):
                    return value
            return b""

    # -- control and inspection (the test's view of the cluster)

    def set_node_ip(self, name, ip):
        with self.lock:
            self.nodes[name].ip = ip

    def restart_node(self, name, startup_seconds):
        with self.lock:
            self.nodes[name].starting_until = self.clock() + startup_seconds

    def block_dc(self, dc, blocked=True):
        """Other DCs cannot reach `dc`'s inter-DC ports (firewall, unroutable pod IPs)."""
        with self.lock:
            (self.blocked.add if blocked else self.blocked.discard)(dc)

    def members(self, dc):
        with self.lock:
            return sorted(member.name for member in self._ring_of(dc).members)

    def receives_from(self, dc, other):
        """True if `dc` holds a descriptor of `other` that reaches `other` as it is now."""
        with self.lock:
            target = self._ring_of(other)
            stored = self._ring_of(dc).stored.get(target.cluster_name)
            return stored is not None and self._reachable(stored) is target

    def ring_members(self, node_name):
        with self.lock:
            return sorted(member.name for member in self.nodes[node_name].ring.members)
