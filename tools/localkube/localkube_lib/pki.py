# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificates and keys for the local control plane, made with the openssl command."""
import subprocess

SERVER_NAMES = ("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local")


def openssl(*args, stdin=None):
    subprocess.run(["openssl"] + list(args), check=True, input=stdin, text=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _key(path):
    if not path.exists():
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(path))
        path.chmod(0o600)


def _signed(pki, name, subject, extensions):
    key, csr, crt = pki / (name + ".key"), pki / (name + ".csr"), pki / (name + ".crt")
    if crt.exists():
        return
    _key(key)
    openssl("req", "-new", "-key", str(key), "-subj", subject, "-out", str(csr))
    ext = pki / (name + ".ext")
    ext.write_text(extensions)
    openssl("x509", "-req", "-in", str(csr), "-CA", str(pki / "ca.crt"), "-CAkey", str(pki / "ca.key"),
            "-CAcreateserial", "-days", "3650", "-sha256", "-extfile", str(ext), "-out", str(crt))
    csr.unlink()
    ext.unlink()


CLIENT = "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n"


def ensure(pki, server_ips=("10.96.0.1",), clients=()):
    """CA, serving certificate for 127.0.0.1 and `server_ips`, admin client certificate, service-account key
    pair, and a client certificate for each (file name, subject) in `clients`."""
    pki.mkdir(parents=True, exist_ok=True)
    pki.chmod(0o700)
    if not (pki / "ca.crt").exists():
        _key(pki / "ca.key")
        openssl("req", "-x509", "-new", "-key", str(pki / "ca.key"), "-subj", "/CN=localkube-ca",
                "-days", "3650", "-sha256", "-out", str(pki / "ca.crt"))
    alt = ",".join(["IP:127.0.0.1"] + ["IP:" + a for a in server_ips] + ["DNS:" + n for n in SERVER_NAMES])
    names = pki / "serving.names"
    if names.exists() and names.read_text() != alt:
        (pki / "serving.crt").unlink(missing_ok=True)
    _signed(pki, "serving", "/CN=localkube-apiserver",
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth\nsubjectAltName=" + alt + "\n")
    names.write_text(alt)
    _signed(pki, "admin", "/O=system:masters/CN=localkube-admin", CLIENT)
    for name, subject in clients:
        _signed(pki, name, subject, CLIENT)
    if not (pki / "sa.key").exists():
        _key(pki / "sa.key")
        openssl("pkey", "-in", str(pki / "sa.key"), "-pubout", "-out", str(pki / "sa.pub"))
