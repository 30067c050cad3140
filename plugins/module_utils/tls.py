# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A private CA and certificates signed by it, with the Python `cryptography` package.

`cryptography` is a dependency of ansible-core, so it is present wherever the controller runs;
community.crypto is not needed. Keys are RSA (accepted by every Elasticsearch and OpenSearch
release) in unencrypted PKCS#8 PEM, the form both read. Nothing here writes to disk or logs:
callers put the PEM bytes into Kubernetes Secrets and return only public facts (subject, names,
validity, fingerprint).
"""

import datetime
import ipaddress

from ansible_collections.stateful.datastores.plugins.module_utils.errors import DatastoresError

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as error:  # pragma: no cover - depends on the environment
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = error

KEY_BITS = 2048
BACKDATE = datetime.timedelta(minutes=5)  # tolerate clocks a little behind the controller's


class TlsError(DatastoresError):
    """A certificate or key could not be read or does not fit."""


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _name(common_name, organization=None, unit=None):
    attributes = []
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    if unit:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def generate_ca(common_name, days, organization=None, unit=None):
    """(certificate PEM, key PEM) of a new self-signed CA valid for ``days`` days."""
    key = _key()
    subject = _name(common_name, organization, unit)
    now = _now()
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE).not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return _cert_pem(cert), _key_pem(key)


def _load_cert(pem, what):
    try:
        return x509.load_pem_x509_certificate(pem if isinstance(pem, bytes) else pem.encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError) as error:
        raise TlsError("%s is not a PEM certificate: %s" % (what, error))


def _load_key(pem, what):
    try:
        return serialization.load_pem_private_key(pem if isinstance(pem, bytes) else pem.encode("ascii"), None)
    except (ValueError, TypeError, UnicodeEncodeError) as error:
        # The library's message never contains key material.
        raise TlsError("%s is not an unencrypted PEM private key: %s" % (what, error))


def generate_certificate(ca_cert_pem, ca_key_pem, common_name, dns_names=(), ip_addresses=(), days=825,
                         organization=None, unit=None):
    """(certificate PEM, key PEM) for a server that is also a client (TLS on Elasticsearch transport
    authenticates both ends), signed by the CA, with the given subject alternative names."""
    ca_cert = _load_cert(ca_cert_pem, "the CA certificate")
    ca_key = _load_key(ca_key_pem, "the CA key")
    if ca_cert.public_key().public_numbers() != ca_key.public_key().public_numbers():
        raise TlsError("the CA key does not belong to the CA certificate")
    key = _key()
    names = [x509.DNSName(name) for name in dns_names]
    names += [x509.IPAddress(ipaddress.ip_address(address)) for address in ip_addresses]
    now = _now()
    not_after = min(now + datetime.timedelta(days=days), _not_after(ca_cert))
    builder = (x509.CertificateBuilder()
               .subject_name(_name(common_name, organization, unit)).issuer_name(ca_cert.subject)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - BACKDATE).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                              critical=False)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),
                              critical=False))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return _cert_pem(builder.sign(ca_key, hashes.SHA256())), _key_pem(key)


def _not_after(cert):
    value = getattr(cert, "not_valid_after_utc", None)
    if value is None:  # cryptography < 42
        value = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return value


def _not_before(cert):
    value = getattr(cert, "not_valid_before_utc", None)
    if value is None:  # cryptography < 42
        value = cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)
    return value


def describe(cert_pem, what="the certificate"):
    """Public facts of a PEM certificate (the first one of a chain)."""
    cert = _load_cert(cert_pem, what)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = san.get_values_for_type(x509.DNSName)
        ip_addresses = [str(address) for address in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        dns_names, ip_addresses = [], []
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "dns_names": list(dns_names),
        "ip_addresses": ip_addresses,
        "not_before": _not_before(cert).isoformat(),
        "not_after": _not_after(cert).isoformat(),
        "expired": _not_after(cert) <= _now(),
        "is_ca": bool(is_ca),
        "fingerprint_sha256": cert.fingerprint(hashes.SHA256()).hex(":").upper(),
    }


def signed_by(cert_pem, ca_pem):
    """Whether the CA's key signed the certificate (and the issuer names match)."""
    cert = _load_cert(cert_pem, "the certificate")
    ca_cert = _load_cert(ca_pem, "the CA certificate")
    if cert.issuer != ca_cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, AttributeError):
        return _verify_signature(cert, ca_cert)
    except Exception:  # cryptography raises InvalidSignature, which is not a ValueError
        return False
    return True


def _verify_signature(cert, ca_cert):
    """For cryptography < 40, which has no verify_directly_issued_by (RSA CAs only)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        ca_cert.public_key().verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                                    cert.signature_hash_algorithm)
    except (InvalidSignature, TypeError, ValueError):
        return False
    return True


def key_matches(cert_pem, key_pem):
    """Whether the private key belongs to the certificate."""
    cert = _load_cert(cert_pem, "the certificate")
    key = _load_key(key_pem, "the private key")
    return cert.public_key().public_numbers() == key.public_key().public_numbers()


def name_covered(name, dns_names):
    """Whether a host name matches one of the certificate's DNS names (a leading '*.' covers one label)."""
    name = name.lower().rstrip(".")
    for pattern in dns_names:
        pattern = pattern.lower().rstrip(".")
        if pattern == name:
            return True
        if pattern.startswith("*.") and "." in name and name.split(".", 1)[1] == pattern[2:]:
            return True
    return False
