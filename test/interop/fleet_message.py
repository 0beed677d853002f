#!/usr/bin/python3
"""Independent signer of fleet messages (docs/sync.md, DESIGN.md section 4).

Written from the documents and RFC 9052 only, not from the project's code: it
stands in for a fleet backend written by other people.

Usage: /usr/bin/python3 test/interop/fleet_message.py KEY.pem KID_B64URL TYP PAYLOAD.json OUT [--cbor]

Signs PAYLOAD.json (a JSON object) with the ES256 private key in KEY.pem as a
COSE_Sign1 tagged 18, protected header {1: -7, 4: kid, 16: TYP} (TYP is what
the message is for, e.g. citygate-denylist; RFC 9596 typ). The payload is
carried as JSON text, or as a CBOR map with --cbor. Writes the message bytes
to OUT.
Needs the Debian packages python3-cbor2 and python3-cryptography.
"""
import base64
import json
import sys

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def main(argv):
    if len(argv) not in (6, 7):
        sys.stderr.write(__doc__)
        return 2
    key_path, kid_text, typ, payload_path, out_path = argv[1:6]
    as_cbor = len(argv) == 7 and argv[6] == "--cbor"
    with open(key_path, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    kid = base64.urlsafe_b64decode(kid_text + "=" * (-len(kid_text) % 4))
    with open(payload_path, "r", encoding="utf-8") as f:
        document = json.load(f)
    payload = cbor2.dumps(document) if as_cbor else json.dumps(document).encode("utf-8")
    protected = cbor2.dumps({1: -7, 4: kid, 16: typ})
    to_be_signed = cbor2.dumps(["Signature1", protected, b"", payload])
    der = key.sign(to_be_signed, ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    message = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature]))
    with open(out_path, "wb") as f:
        f.write(message)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
