# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""localkube: a real Kubernetes control plane on 127.0.0.1, nodes simulated by KWOK."""
