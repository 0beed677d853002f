#!/usr/bin/python3
"""Independent encoder of national transport QR codes (交通一卡通二维码) for interop tests.

Written from the published layout only (CARDS.md section 4, the open reader's
shapi/qr_jtb.h field list, GM/T 0003 for SM2), not from the project's code: the
SM2 signatures are OpenSSL's (the `openssl` 3 command line, SM3 digest, the user
id as `distid`/`hexdistid`), so that a misreading of SM2 or of the layout in the
project shows up here.

Usage: /usr/bin/python3 test/interop/transport_codes.py OUTDIR

Before anything else it checks that the OpenSSL SM2 it drives is the standard's:
OpenSSL must verify the GM/T 0003.5 example signature (sm2p256v1, user id
1234567812345678) and refuse it for a changed message. Then it writes
OUTDIR/trust.json (a trust list with a `transport` object, DESIGN.md section 5)
and OUTDIR/cases.json: a list of {name, hex, at, expect: {result, reason,
subject?, category?}}.

Layout (integers big-endian; D = length of the issuer-defined field, 0..32):
  version 80|81 | length (2) = bytes after it | issuer certificate (117) |
  payment account (16) | account number (10) | organisation (4) | platform (4) |
  account type (1) | single-trip limit (3) | user public key (33, compressed) |
  authorisation expiry (4, UTC s) | QR validity (2, s) | D (1) | defined (D) |
  issuer signature (65: 1 byte, r, s) | generation time (4) | user signature (65)
Certificate: 24 | 01010000 | root CA index | 12 | issuer id (4) | MMYY (BCD) |
  serial (3) | 04 | 04 | 00 | 21 | issuer key (33) | r s (root, over 12..key).
The issuer signs the certificate through the defined field; the user signs
everything before the user signature. User ids: 0x80 all 1234567812345678;
0x81: certificate service id || root index, account organisation || platform,
code account number.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile

OPENSSL = "openssl"
DEFAULT_ID = b"1234567812345678"
NOW = 1_800_000_000  # 2027-01-15T08:00:00Z
AT = "2027-01-15T08:00:00Z"

WORK = tempfile.mkdtemp(prefix="transport-interop-")


def run(args, data=None):
    done = subprocess.run(args, input=data, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(args), done.stderr.decode(errors="replace")))
    return done.stdout


def path(name):
    return os.path.join(WORK, name)


# ------------------------------------------------------------ DER, minimal
def der_len(n):
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def der(tag, body):
    return bytes([tag]) + der_len(len(body)) + body


def der_read(data, at):
    tag = data[at]
    n = data[at + 1]
    at += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(data[at:at + k], "big")
        at += k
    return tag, data[at:at + n], at + n


def signature_rs(der_sig):
    tag, body, _ = der_read(der_sig, 0)
    assert tag == 0x30
    _, r, nxt = der_read(body, 0)
    _, s, _ = der_read(body, nxt)
    return int.from_bytes(r, "big").to_bytes(32, "big") + int.from_bytes(s, "big").to_bytes(32, "big")


def der_signature(rs):
    def integer(b):
        b = b.lstrip(b"\x00") or b"\x00"
        if b[0] & 0x80:
            b = b"\x00" + b
        return der(0x02, b)
    return der(0x30, integer(rs[:32]) + integer(rs[32:]))


# OID 1.2.840.10045.2.1 (ecPublicKey) and 1.2.156.10197.1.301 (SM2)
EC_PUBLIC_KEY = bytes.fromhex("06072a8648ce3d0201")
SM2_CURVE = bytes.fromhex("06082a811ccf5501822d")


def public_pem(uncompressed):
    spki = der(0x30, der(0x30, EC_PUBLIC_KEY + SM2_CURVE) + der(0x03, b"\x00" + uncompressed))
    b64 = base64.encodebytes(spki).decode().replace("\n", "")
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"


# ------------------------------------------------------------ SM2 through OpenSSL
class Key:
    count = 0

    def __init__(self):
        Key.count += 1
        self.pem = path("key%d.pem" % Key.count)
        run([OPENSSL, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:SM2", "-out", self.pem])
        spki = run([OPENSSL, "pkey", "-in", self.pem, "-pubout", "-outform", "DER"])
        self.uncompressed = spki[-65:]
        assert self.uncompressed[0] == 4
        y = int.from_bytes(self.uncompressed[33:], "big")
        self.compressed = bytes([2 | (y & 1)]) + self.uncompressed[1:33]

    def sign(self, message, user_id):
        msg = path("msg.bin")
        with open(msg, "wb") as f:
            f.write(message)
        sig = run([OPENSSL, "pkeyutl", "-sign", "-inkey", self.pem, "-rawin", "-digest", "sm3",
                   "-pkeyopt", "hexdistid:" + user_id.hex(), "-in", msg])
        return signature_rs(sig)


def openssl_verifies(uncompressed, message, rs, user_id):
    pub, msg, sig = path("pub.pem"), path("vmsg.bin"), path("sig.der")
    with open(pub, "w") as f:
        f.write(public_pem(uncompressed))
    with open(msg, "wb") as f:
        f.write(message)
    with open(sig, "wb") as f:
        f.write(der_signature(rs))
    done = subprocess.run([OPENSSL, "pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-digest", "sm3",
                           "-pkeyopt", "hexdistid:" + user_id.hex(), "-in", msg, "-sigfile", sig], capture_output=True)
    return done.returncode == 0


def selftest():
    """GM/T 0003.5-2012 signature example on the recommended curve (also in OpenSSL's sm2_internal_test.c)."""
    x = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    y = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
    r = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
    s = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
    key = bytes.fromhex("04" + x + y)
    rs = bytes.fromhex(r + s)
    if not openssl_verifies(key, b"message digest", rs, DEFAULT_ID):
        raise RuntimeError("OpenSSL does not verify the GM/T 0003.5 example: its SM2 is not the standard's here")
    if openssl_verifies(key, b"message digesT", rs, DEFAULT_ID):
        raise RuntimeError("OpenSSL verified the GM/T 0003.5 example over another message")
    # And a signature of our own OpenSSL key round-trips with a binary user id.
    k = Key()
    sig = k.sign(b"abc", bytes.fromhex("0101000001"))
    if not openssl_verifies(k.uncompressed, b"abc", sig, bytes.fromhex("0101000001")) or openssl_verifies(k.uncompressed, b"abc", sig, DEFAULT_ID):
        raise RuntimeError("OpenSSL's SM2 does not bind the user id")


# ------------------------------------------------------------ the layout
SERVICE_ID = bytes.fromhex("01010000")


def u(n, width):
    return n.to_bytes(width, "big")


def bcd(n):
    return bytes([((n // 10) % 10) << 4 | (n % 10)])


def certificate(version, root, root_index, issuer_id, issuer_key, mm, yy, serial="000001"):
    signed = (b"\x12" + bytes.fromhex(issuer_id) + bcd(mm) + bcd(yy) + bytes.fromhex(serial)
              + b"\x04\x04\x00\x21" + issuer_key.compressed)
    user_id = SERVICE_ID + bytes([root_index]) if version == 0x81 else DEFAULT_ID
    out = b"\x24" + SERVICE_ID + bytes([root_index]) + signed + root.sign(signed, user_id)
    assert len(out) == 117
    return out


def code(version, cert, issuer_key, user_key, account, generated, authorised_until, valid=60,
         account_type=1, limit=2000, org="31047700", platform="00000001", defined=b"",
         signer=None, default_ids=False):
    # The payment account is the payment system's own: zeros, then the account number.
    fields = (bytes(6) + bytes.fromhex(account) + bytes.fromhex(account) + bytes.fromhex(org) + bytes.fromhex(platform)
              + bytes([account_type]) + u(limit, 3) + user_key.compressed + u(authorised_until, 4) + u(valid, 2)
              + bytes([len(defined)]) + defined)
    issuer_signed = cert + fields
    local = version == 0x81 and not default_ids
    issuer_user_id = bytes.fromhex(org) + bytes.fromhex(platform) if local else DEFAULT_ID
    issuer_sig = b"\x04" + issuer_key.sign(issuer_signed, issuer_user_id)
    body = issuer_signed + issuer_sig + u(generated, 4)
    total = 3 + len(body) + 65
    head = bytes([version]) + u(total - 3, 2)
    user_signed = head + body
    user_id = bytes.fromhex(account) if local else DEFAULT_ID
    user_sig = b"\x04" + (signer or user_key).sign(user_signed, user_id)
    out = user_signed + user_sig
    assert len(out) == 332 + len(defined), len(out)
    return out


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    out_dir = argv[1]
    selftest()

    root = Key()
    other_root_same_index = Key()
    stray_root = Key()
    issuer_key = Key()
    unlisted_key = Key()
    users = [Key() for _ in range(4)]
    ROOT, STRAY = 0x07, 0x09
    ISSUER, UNLISTED = "01510001", "02520002"

    trust = {"issuers": [], "transport": {
        "roots": [{"index": ROOT, "algorithm": "SM2", "publicKey": root.uncompressed.hex()}],
        "issuers": [ISSUER]}}

    def cert(version, **kw):
        args = dict(root=root, root_index=ROOT, issuer_id=ISSUER, issuer_key=issuer_key, mm=12, yy=49)
        args.update(kw)
        return certificate(version, **args)

    acct = ["3104770011223344556F", "0200290000000000012F", "3104770099887766554F", "11112222333344445555"]
    cases = []

    def case(name, data, result, reason, **expect):
        e = {"result": result, "reason": reason}
        e.update(expect)
        cases.append({"name": name, "hex": data.hex(), "at": AT, "expect": e})

    c80 = cert(0x80)
    c81 = cert(0x81)
    valid80 = code(0x80, c80, issuer_key, users[0], acct[0], NOW - 10, NOW + 86400)
    valid81 = code(0x81, c81, issuer_key, users[1], acct[1], NOW - 10, NOW + 86400, org="02002900", platform="00000007")
    case("valid 0x80", valid80, "accepted", "ok", subject=acct[0], category="adult")
    case("valid 0x81", valid81, "accepted", "ok", subject=acct[1], category="adult")
    case("valid 0x80, student, 32-byte defined field", code(0x80, c80, issuer_key, users[2], acct[2], NOW, NOW + 600,
         account_type=2, defined=bytes(range(32))), "accepted", "ok", subject=acct[2], category="student")
    case("valid 0x81, senior, validity 180 s", code(0x81, c81, issuer_key, users[3], acct[3], NOW - 150, NOW + 600,
         valid=180, account_type=3, defined=b"\x10\x20"), "accepted", "ok", subject=acct[3], category="senior")

    def flipped(data, at):
        b = bytearray(data)
        b[at] ^= 0x01
        return bytes(b)

    case("tampered account number", flipped(valid80, 3 + 117 + 16 + 3), "refused", "bad-signature")
    case("tampered single-trip limit", flipped(valid80, 3 + 117 + 16 + 10 + 8 + 1 + 2), "refused", "bad-signature")
    case("tampered generation time", flipped(valid81, len(valid81) - 66), "refused", "bad-signature")
    case("tampered issuer key in the certificate", flipped(valid80, 3 + 30), "refused", "bad-signature")
    case("wrongly signed: another phone's key", code(0x80, c80, issuer_key, users[0], acct[0], NOW, NOW + 86400,
         signer=users[1]), "refused", "bad-signature")
    case("wrongly signed: 0x81 with the default user ids", code(0x81, cert(0x80), issuer_key, users[1], acct[1], NOW,
         NOW + 86400, default_ids=True), "refused", "bad-signature")
    case("certificate signed by another key under the same root index", code(0x80, cert(0x80, root=other_root_same_index),
         issuer_key, users[0], acct[0], NOW, NOW + 86400), "refused", "bad-signature")
    case("unknown root", code(0x80, cert(0x80, root=stray_root, root_index=STRAY), issuer_key, users[0], acct[0], NOW,
         NOW + 86400), "refused", "unknown-key")
    case("issuer not in the trust list", code(0x80, cert(0x80, issuer_id=UNLISTED, issuer_key=unlisted_key), unlisted_key,
         users[0], acct[0], NOW, NOW + 86400), "refused", "unknown-issuer")
    case("expired certificate (12/26)", code(0x80, cert(0x80, yy=26), issuer_key, users[0], acct[0], NOW, NOW + 86400),
         "refused", "expired")
    case("expired authorisation", code(0x81, c81, issuer_key, users[1], acct[1], NOW - 3700, NOW - 3600),
         "refused", "expired")
    case("stale: generated 10 minutes ago, valid 60 s", code(0x80, c80, issuer_key, users[0], acct[0], NOW - 600, NOW + 86400),
         "refused", "stale")
    case("future: generated in 10 minutes", code(0x80, c80, issuer_key, users[0], acct[0], NOW + 600, NOW + 86400),
         "refused", "not-yet-valid")
    case("truncated by one byte", valid80[:-1], "refused", "malformed")
    case("truncated to the certificate", valid80[:120], "refused", "malformed")
    case("length field wrong", valid80[:1] + u(len(valid80) - 2, 2) + valid80[3:], "refused", "malformed")
    case("one byte appended", valid80 + b"\x00", "refused", "malformed")
    case("corrupt binary with the version byte", b"\x80" + bytes(range(256)) * 2, "refused", "malformed")
    case("binary that is neither a transport code nor text", bytes([0x00, 0xFF, 0xFE, 0x81]), "refused", "malformed")
    case("empty", b"", "refused", "malformed")

    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "trust.json"), "w") as f:
        json.dump(trust, f, indent=2)
    with open(os.path.join(out_dir, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
