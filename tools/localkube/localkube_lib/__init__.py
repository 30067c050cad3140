"""localkube: a real Kubernetes control plane on 127.0.0.1, nodes simulated by KWOK."""
