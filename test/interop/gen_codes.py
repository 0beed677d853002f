#!/usr/bin/python3
"""Independent generator of CG1 city codes (DESIGN.md section 2) for interop tests.

Written from DESIGN.md and the RFCs only (RFC 9285 base45, RFC 9052 COSE_Sign1,
RFC 8392 CWT, RFC 8152/9053 COSE_Key, RFC 7517/8037 JWK); it does not read or reuse
the project's TypeScript encoder, so that it catches places where the project
misreads the spec.

Usage: /usr/bin/python3 test/interop/gen_codes.py OUTDIR

Writes OUTDIR/trust.json (trust list) and OUTDIR/cases.json (list of cases:
{name, text, at, site?, gate?, expect: {result, reason, issuer?, subject?, category?}}).
`expect.reason` is a string, or (only where DESIGN.md leaves the choice open) a list
of acceptable reason codes, or "*" (any refusal reason: DESIGN.md names none for the
case); `expect.note` then says why.

Before writing, every case is re-checked by a small reference verifier in this file
(base45 decode, CBOR decode, signature verification with `cryptography`), so the
generated codes are known to be well formed and correctly signed.
Needs the Debian packages python3-cbor2 and python3-cryptography.
"""
import base64
import calendar
import hashlib
import json
import os
import sys
import time

try:
    import cbor2
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    from cryptography.hazmat.primitives.asymmetric.utils import (
        decode_dss_signature, encode_dss_signature)
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
except ImportError as e:  # pragma: no cover
    sys.stderr.write(
        "gen_codes.py: missing Python module (%s). Install the Debian packages: "
        "apt-get install -y python3-cbor2 python3-cryptography\n" % e)
    sys.exit(3)

# ---------------------------------------------------------------- base45 (RFC 9285)
B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
B45_INDEX = {c: i for i, c in enumerate(B45)}


def b45encode(data: bytes) -> str:
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        e, rest = divmod(n, 45 * 45)
        d, c = divmod(rest, 45)
        out += [B45[c], B45[d], B45[e]]
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += [B45[c], B45[d]]
    return "".join(out)


def b45decode(text: str) -> bytes:
    if len(text) % 3 == 1:
        raise ValueError("base45 length % 3 == 1")
    out = bytearray()
    for i in range(0, len(text), 3):
        chunk = text[i:i + 3]
        try:
            vals = [B45_INDEX[ch] for ch in chunk]
        except KeyError:
            raise ValueError("invalid base45 character")
        if len(vals) == 3:
            n = vals[0] + vals[1] * 45 + vals[2] * 2025
            if n > 0xFFFF:
                raise ValueError("base45 triplet out of range")
            out += bytes([n >> 8, n & 0xFF])
        else:
            n = vals[0] + vals[1] * 45
            if n > 0xFF:
                raise ValueError("base45 pair out of range")
            out.append(n)
    return bytes(out)


# RFC 9285 section 4.3/4.4 examples, as a self-test of the codec
assert b45encode(b"AB") == "BB8"
assert b45encode(b"Hello!!") == "%69 VD92EX0"
assert b45encode(b"base-45") == "UJCLQE7W581"
assert b45decode("QED8WEX0") == b"ietf!"
assert b45decode("%69 VD92EX0") == b"Hello!!"


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# ---------------------------------------------------------------- keys
ALG_ES256 = -7
ALG_EDDSA = -8


class Key:
    """A signing key, deterministic from a label so that runs are reproducible."""

    def __init__(self, label: str, alg: str):
        self.label = label
        self.alg = alg  # "ES256" | "EdDSA"
        seed = hashlib.sha256(("citygate-interop/" + label).encode()).digest()
        if alg == "ES256":
            order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
            self.priv = ec.derive_private_key(int.from_bytes(seed, "big") % (order - 1) + 1,
                                              ec.SECP256R1())
            nums = self.priv.public_key().public_numbers()
            self.x = nums.x.to_bytes(32, "big")
            self.y = nums.y.to_bytes(32, "big")
            self.cose_alg = ALG_ES256
        elif alg == "EdDSA":
            self.priv = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
            self.x = self.priv.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            self.y = None
            self.cose_alg = ALG_EDDSA
        else:
            raise ValueError(alg)
        # COSE kid bytes: 8 bytes derived from the public key
        self.kid = hashlib.sha256(b"kid" + self.x + (self.y or b"")).digest()[:8]

    def sign(self, msg: bytes) -> bytes:
        if self.alg == "ES256":
            der = self.priv.sign(msg, ec.ECDSA(hashes.SHA256()))
            r, s = decode_dss_signature(der)
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")  # raw r||s, RFC 9053 2.1
        return self.priv.sign(msg)

    def jwk(self, **extra) -> dict:
        if self.alg == "ES256":
            j = {"kty": "EC", "crv": "P-256", "x": b64u(self.x), "y": b64u(self.y)}
        else:
            j = {"kty": "OKP", "crv": "Ed25519", "x": b64u(self.x)}
        j.update({"kid": b64u(self.kid), "alg": self.alg})
        j.update(extra)
        return j

    def cose_key(self) -> dict:
        """COSE_Key (RFC 9052 section 7, RFC 9053 section 7) of the public key."""
        if self.alg == "ES256":
            return {1: 2, -1: 1, -2: self.x, -3: self.y}  # kty EC2, crv P-256
        return {1: 1, -1: 6, -2: self.x}  # kty OKP, crv Ed25519


def verify_sig(alg: int, cose_key_or_key, msg: bytes, sig: bytes) -> bool:
    """Reference verification from raw public parameters (not from our private keys)."""
    if isinstance(cose_key_or_key, Key):
        k = cose_key_or_key
        kty, x, y = (2 if k.alg == "ES256" else 1), k.x, k.y
    else:
        ck = cose_key_or_key
        kty, x, y = ck.get(1), ck.get(-2), ck.get(-3)
        if kty == 2 and isinstance(y, bool):  # compressed point, RFC 9053 section 7.1.1
            pt = ec.EllipticCurvePublicKey.from_encoded_point(
                ec.SECP256R1(), bytes([3 if y else 2]) + x).public_numbers()
            y = pt.y.to_bytes(32, "big")
    try:
        if alg == ALG_ES256:
            if kty != 2 or len(sig) != 64:
                return False
            pub = ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"),
                                                ec.SECP256R1()).public_key()
            der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
            pub.verify(der, msg, ec.ECDSA(hashes.SHA256()))
            return True
        if alg == ALG_EDDSA:
            if kty != 1:
                return False
            ed25519.Ed25519PublicKey.from_public_bytes(x).verify(sig, msg)
            return True
    except (InvalidSignature, ValueError):
        return False
    return False


# ---------------------------------------------------------------- COSE_Sign1 (RFC 9052)
def sig_structure(protected: bytes, payload: bytes) -> bytes:
    return cbor2.dumps(["Signature1", protected, b"", payload])  # RFC 9052 section 4.4


P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def sign1(key: Key, payload: bytes, kid: bytes = None, alg: int = None, tag=18,
          mutate_sig=False, payload_after=None, high_s=None, der=False, protected=None) -> bytes:
    """Encoded COSE_Sign1: tag 18 [protected bstr, {} , payload bstr, signature bstr].

    high_s (ES256 only): True/False forces s into the upper/lower half of the group order
    (both are valid ECDSA signatures; RFC 9053 does not require low-S).
    der (ES256 only): put the DER signature in, instead of r||s (wrong per RFC 9053).
    """
    if protected is None:
        protected = cbor2.dumps({1: key.cose_alg if alg is None else alg,
                                 4: key.kid if kid is None else kid})
    msg = sig_structure(protected, payload)
    sig = key.sign(msg)
    if high_s is not None or der:
        assert key.alg == "ES256"
        r, s_ = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
        if high_s is not None and (s_ > P256_N // 2) != high_s:
            s_ = P256_N - s_
        sig = (encode_dss_signature(r, s_) if der
               else r.to_bytes(32, "big") + s_.to_bytes(32, "big"))
        if not der:
            assert verify_sig(ALG_ES256, key, msg, sig)
    if mutate_sig:
        sig = bytearray(sig)
        sig[len(sig) // 2] ^= 0x01
        sig = bytes(sig)
    if payload_after is not None:  # payload changed after signing
        payload = payload_after
    arr = [protected, {}, payload, sig]
    return cbor2.dumps(cbor2.CBORTag(tag, arr) if tag is not None else arr)


def qr(cose: bytes) -> str:
    return "CG1:" + b45encode(cose)


# ---------------------------------------------------------------- claims
ISS, SUB, EXP, NBF, IAT, CTI, CNF = 1, 2, 4, 5, 6, 7, 8
CATEGORY, PRODUCT = -65537, -65538
CATEGORIES = ["adult", "senior", "student", "child", "disabled", "staff"]

_cti_counter = [0]


def new_cti() -> bytes:
    _cti_counter[0] += 1
    return hashlib.sha256(b"cti%d" % _cti_counter[0]).digest()[:16]


def claims(iss, sub, iat, exp, category, nbf=None, product=None, cnf=None, cti=None):
    c = {ISS: iss, SUB: sub, EXP: exp, IAT: iat, CTI: cti if cti is not None else new_cti(),
         CATEGORY: category}
    if nbf is not None:
        c[NBF] = nbf
    if product is not None:
        c[PRODUCT] = product
    if cnf is not None:
        c[CNF] = {1: cnf.cose_key()}
    return c


# ---------------------------------------------------------------- reference verifier
class Refused(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def cbor_strict(data: bytes):
    """Decodes exactly one CBOR item; trailing bytes or bad CBOR -> malformed."""
    import io
    fp = io.BytesIO(data)
    try:
        obj = cbor2.CBORDecoder(fp).decode()
    except Exception:
        raise Refused("malformed")
    if fp.tell() != len(data):
        raise Refused("malformed")
    return obj


def decode_sign1(data: bytes):
    obj = cbor_strict(data)
    if not isinstance(obj, cbor2.CBORTag) or obj.tag != 18:
        raise Refused("malformed")
    arr = obj.value
    if (not isinstance(arr, list) or len(arr) != 4 or not isinstance(arr[0], bytes)
            or not isinstance(arr[1], dict) or not isinstance(arr[2], bytes)
            or not isinstance(arr[3], bytes)):
        raise Refused("malformed")
    prot = cbor_strict(arr[0]) if arr[0] else {}
    if not isinstance(prot, dict) or prot.get(1) not in (ALG_ES256, ALG_EDDSA):
        raise Refused("malformed")
    return arr, prot


def ref_check(text, trust, at, site=None, skew=30, freshness=60):
    """Returns (result, reason, info). A compact reading of DESIGN.md section 2."""
    try:
        if not text.startswith("CG1:"):
            raise Refused("malformed")
        try:
            raw = b45decode(text[4:])
        except ValueError:
            raise Refused("malformed")
        arr, prot = decode_sign1(raw)
        payload = cbor_strict(arr[2])
        if not isinstance(payload, dict):
            raise Refused("malformed")
        holder = isinstance(payload.get(1), bytes)
        if holder:
            inner_arr, inner_prot = decode_sign1(payload[1])
            if not isinstance(payload.get(2), int) or not isinstance(payload.get(3), int):
                raise Refused("malformed")
            cl = cbor_strict(inner_arr[2])
            outer = (arr, prot, payload)
            arr, prot = inner_arr, inner_prot
        else:
            cl = payload
            if isinstance(cl.get(CNF), dict):
                raise Refused("malformed")  # holder-bound credential without the holder's proof
        if (not isinstance(cl, dict) or not isinstance(cl.get(ISS), str) or not isinstance(cl.get(SUB), str)
                or not isinstance(cl.get(EXP), (int, float))):
            raise Refused("malformed")
        issuer = next((i for i in trust["issuers"] if i["id"] == cl[ISS]), None)
        if issuer is None:
            raise Refused("unknown-issuer")
        kid = b64u(prot.get(4, b""))
        jwk = next((k for k in issuer["keys"] if k["kid"] == kid
                    and k.get("nbf", -2**63) <= at and at < k.get("exp", 2**63)), None)
        if jwk is None:
            raise Refused("unknown-key")
        pubkey = {1: 2 if jwk["kty"] == "EC" else 1,
                  -2: base64.urlsafe_b64decode(jwk["x"] + "==")}
        if "y" in jwk:
            pubkey[-3] = base64.urlsafe_b64decode(jwk["y"] + "==")
        if {"ES256": ALG_ES256, "EdDSA": ALG_EDDSA}[jwk["alg"]] != prot[1]:
            raise Refused("bad-signature")
        if not verify_sig(prot[1], pubkey, sig_structure(arr[0], arr[2]), arr[3]):
            raise Refused("bad-signature")
        if holder:
            o_arr, o_prot, o_payload = outer
            cnf = cl.get(CNF)
            if not isinstance(cnf, dict) or not isinstance(cnf.get(1), dict):
                raise Refused("malformed")
            if not verify_sig(o_prot[1], cnf[1], sig_structure(o_arr[0], o_arr[2]), o_arr[3]):
                raise Refused("bad-signature")
        for lbl in (NBF, IAT):
            if lbl in cl and cl[lbl] > at + skew:
                raise Refused("not-yet-valid")
        if cl[EXP] + skew <= at:
            raise Refused("expired")
        prod = cl.get(PRODUCT)
        if prod is not None:
            if "from" in prod and prod["from"] > at + skew:
                raise Refused("not-yet-valid")
            if "until" in prod and prod["until"] + skew <= at:
                raise Refused("expired")
        if holder:
            if o_payload[2] > at + skew:
                raise Refused("not-yet-valid")
            if o_payload[2] + freshness + skew < at:
                raise Refused("stale")
        if prod is not None:
            if site is not None and prod.get("site") is not None and prod["site"] != site:
                raise Refused("wrong-site")
            if prod.get("entries", 1) < 1:
                raise Refused("entries-used")
        return "accepted", "ok", {"issuer": cl[ISS], "subject": cl[SUB], "category": cl.get(CATEGORY)}
    except Refused as r:
        return "refused", r.reason, {}


# ---------------------------------------------------------------- cases
def iso(t: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def main(outdir: str) -> int:
    os.makedirs(outdir, exist_ok=True)
    # Check time far from the wall clock (2031), so a CLI that reads the real clock
    # anywhere instead of --at shows up as failures.
    AT = calendar.timegm((2031, 6, 15, 9, 30, 0))
    at_iso = iso(AT)

    es = Key("issuer-cq-es256-2031", "ES256")
    es_old = Key("issuer-cq-es256-2029-retired", "ES256")
    ed = Key("issuer-sc-eddsa-2031", "EdDSA")
    ed_old = Key("issuer-sc-eddsa-2029-retired", "EdDSA")
    es_next = Key("issuer-cq-es256-2031-next", "ES256")  # nbf in the future
    fleet = Key("fleet-ops", "ES256")
    rogue_es = Key("rogue-es256", "ES256")  # not in the trust list
    rogue_ed = Key("rogue-eddsa", "EdDSA")
    holder_ec = Key("holder-ec2", "ES256")
    holder_okp = Key("holder-okp", "EdDSA")
    thief_ec = Key("thief-ec2", "ES256")
    thief_okp = Key("thief-okp", "EdDSA")

    ISS_ES, ISS_ED = "cq.yukuaima", "sc.tianfu"
    trust = {
        "issuers": [
            {"id": ISS_ES, "name": "Chongqing Yukuaima (interop test)",
             "keys": [es.jwk(nbf=AT - 86400 * 365),
                      es_old.jwk(nbf=AT - 86400 * 800, exp=AT - 86400 * 30),
                      es_next.jwk(nbf=AT + 86400 * 30)]},
            {"id": ISS_ED, "name": "Sichuan Tianfu (interop test)",
             "keys": [ed.jwk(use="sig", key_ops=["verify"]), ed_old.jwk(exp=AT - 86400 * 30)]},
        ],
        "fleet": [fleet.jwk()],
    }

    issuers = [("es256", es, ISS_ES, es_old, rogue_es), ("eddsa", ed, ISS_ED, ed_old, rogue_ed)]
    cases = []
    cat_i = [0]

    def next_cat():
        c = CATEGORIES[cat_i[0] % len(CATEGORIES)]
        cat_i[0] += 1
        return c

    def add(name, text, result, reason, site=None, gate=None, who=None, note=None, at=None, at_text=None):
        exp = {"result": result, "reason": reason}
        if who:
            exp.update(who)
        if note:
            exp["note"] = note
        c = {"name": name, "text": text, "at": at_text or (at_iso if at is None else iso(at))}
        if site is not None:
            c["site"] = site
        if gate is not None:
            c["gate"] = gate
        c["expect"] = exp
        cases.append(c)

    def who(iss, sub, cat):
        return {"issuer": iss, "subject": sub, "category": cat}

    SITE = "cq.ciqikou"

    def offline(issuer_key, iss, holder, sub, cat, code_iat, signer=None, inner_exp=None,
                mutate_inner=False, counter=7, inner_extra=None, cose_key=None, outer_kid=None):
        inner_claims = claims(iss, sub, AT - 86400 * 10,
                              AT + 86400 * 30 if inner_exp is None else inner_exp, cat, cnf=holder)
        if cose_key is not None:
            inner_claims[CNF] = {1: cose_key}
        inner_claims.update(inner_extra or {})
        inner = sign1(issuer_key, cbor2.dumps(inner_claims), mutate_sig=mutate_inner)
        outer_payload = cbor2.dumps({1: inner, 2: code_iat, 3: counter})
        # outer kid: the holder key's own id; it is not in the trust list (the gate uses cnf)
        return qr(sign1(signer or holder, outer_payload,
                        kid=holder.kid if outer_kid is None else outer_kid))

    for tag, key, iss, old, rogue in issuers:
        # --- profile (a), valid
        cat = next_cat()
        add(f"a-valid-{tag}", qr(sign1(key, cbor2.dumps(claims(iss, f"acct-{tag}-1", AT - 5, AT + 115, cat)))),
            "accepted", "ok", who=who(iss, f"acct-{tag}-1", cat))
        # --- product (ticket) at the right site; bought two days ago (freshness is for (b) only)
        cat = next_cat()
        prod = {"site": SITE, "from": AT - 3600, "until": AT + 3600 * 8, "entries": 2, "zone": "z1"}
        tkt = qr(sign1(key, cbor2.dumps(claims(iss, f"tkt-{tag}-1", AT - 2 * 86400, AT + 86400, cat, product=prod))))
        add(f"a-product-valid-{tag}", tkt, "accepted", "ok", site=SITE, gate="cq.ciqikou.g1",
            who=who(iss, f"tkt-{tag}-1", cat))
        add(f"a-product-wrong-site-{tag}", tkt, "refused", "wrong-site", site="cq.hongyadong",
            gate="cq.hongyadong.g1")
        cat = next_cat()
        prod1 = {"site": SITE, "from": AT - 3600, "until": AT + 3600}  # entries defaults to 1
        add(f"a-product-default-entries-{tag}",
            qr(sign1(key, cbor2.dumps(claims(iss, f"tkt-{tag}-2", AT - 600, AT + 86400, cat, product=prod1)))),
            "accepted", "ok", site=SITE, who=who(iss, f"tkt-{tag}-2", cat))
        prod0 = {"site": SITE, "from": AT - 3600, "until": AT + 3600, "entries": 0}
        add(f"a-product-entries-0-{tag}",
            qr(sign1(key, cbor2.dumps(claims(iss, f"tkt-{tag}-3", AT - 600, AT + 86400, next_cat(), product=prod0)))),
            "refused", "entries-used", site=SITE)
        # product window (from/until): DESIGN lists them both under not-yet-valid/expired and
        # under "product not valid here ... time window" (outside-window)
        prod_late = {"site": SITE, "from": AT - 7200, "until": AT - 3600, "entries": 1}
        add(f"a-product-until-past-{tag}",
            qr(sign1(key, cbor2.dumps(claims(iss, f"tkt-{tag}-4", AT - 86400, AT + 86400, next_cat(), product=prod_late)))),
            "refused", ["expired", "outside-window"], site=SITE,
            note="DESIGN 2 names `until` under expired and the product time window under outside-window")
        prod_early = {"site": SITE, "from": AT + 3600, "until": AT + 7200, "entries": 1}
        add(f"a-product-from-future-{tag}",
            qr(sign1(key, cbor2.dumps(claims(iss, f"tkt-{tag}-5", AT - 86400, AT + 86400, next_cat(), product=prod_early)))),
            "refused", ["not-yet-valid", "outside-window"], site=SITE,
            note="DESIGN 2 names `from` under not-yet-valid and the product time window under outside-window")

        # --- time checks
        add(f"a-expired-{tag}",
            qr(sign1(key, cbor2.dumps(claims(iss, f"acct-{tag}-2", AT - 7200, AT - 3600, next_cat())))),
            "refused", "expired")
        add(f"a-not-yet-valid-nbf-{tag}",
            qr(sign1(key, cbor2.dumps(claims(iss, f"acct-{tag}-3", AT - 5, AT + 7200, next_cat(), nbf=AT + 3600)))),
            "refused", "not-yet-valid")
        add(f"a-not-yet-valid-iat-{tag}",
            qr(sign1(key, cbor2.dumps(claims(iss, f"acct-{tag}-4", AT + 3600, AT + 7200, next_cat())))),
            "refused", "not-yet-valid")
        cat = next_cat()
        add(f"a-exp-within-skew-{tag}",
            qr(sign1(key, cbor2.dumps(claims(iss, f"acct-{tag}-5", AT - 70, AT - 10, cat)))),
            "accepted", "ok", who=who(iss, f"acct-{tag}-5", cat))
        cat = next_cat()
        add(f"a-nbf-within-skew-{tag}",
            qr(sign1(key, cbor2.dumps(claims(iss, f"acct-{tag}-6", AT - 5, AT + 120, cat, nbf=AT + 10)))),
            "accepted", "ok", who=who(iss, f"acct-{tag}-6", cat))

        # --- signatures
        good = cbor2.dumps(claims(iss, f"acct-{tag}-7", AT - 5, AT + 115, next_cat()))
        add(f"a-bad-signature-flipped-{tag}", qr(sign1(key, good, mutate_sig=True)), "refused", "bad-signature")
        forged = cbor2.dumps(claims(iss, f"acct-{tag}-7x", AT - 5, AT + 115, "staff"))
        add(f"a-bad-signature-payload-changed-{tag}", qr(sign1(key, good, payload_after=forged)),
            "refused", "bad-signature")
        # --- trust list
        add(f"a-unknown-issuer-{tag}",
            qr(sign1(rogue, cbor2.dumps(claims("xx.nowhere", f"acct-{tag}-8", AT - 5, AT + 115, next_cat())))),
            "refused", "unknown-issuer")
        add(f"a-unknown-kid-{tag}",
            qr(sign1(rogue, cbor2.dumps(claims(iss, f"acct-{tag}-9", AT - 5, AT + 115, next_cat())))),
            "refused", "unknown-key")
        add(f"a-retired-key-{tag}",
            qr(sign1(old, cbor2.dumps(claims(iss, f"acct-{tag}-10", AT - 5, AT + 115, next_cat())))),
            "refused", "unknown-key")
        # the other issuer's (trusted) key signs a code that claims to be from this issuer
        other = ed if key is es else es
        add(f"a-other-issuers-key-{tag}",
            qr(sign1(other, cbor2.dumps(claims(iss, f"acct-{tag}-11", AT - 5, AT + 115, next_cat())))),
            "refused", ["unknown-key", "bad-signature"],
            note="kid belongs to another issuer: the key must be looked up within the iss claim's issuer")

        # --- profile (b), both holder key types
        for htag, hk, thief in (("ec2", holder_ec, thief_ec), ("okp", holder_okp, thief_okp)):
            cat = next_cat()
            sub = f"rider-{tag}-{htag}"
            add(f"b-valid-{tag}-{htag}", offline(key, iss, hk, sub, cat, AT - 5),
                "accepted", "ok", who=who(iss, sub, cat))
            cat = next_cat()
            add(f"b-fresh-50s-{tag}-{htag}", offline(key, iss, hk, sub + "-f", cat, AT - 50, counter=0),
                "accepted", "ok", who=who(iss, sub + "-f", cat))
            add(f"b-stale-{tag}-{htag}", offline(key, iss, hk, sub, next_cat(), AT - 300), "refused", "stale")
            add(f"b-outer-other-key-{tag}-{htag}", offline(key, iss, hk, sub, next_cat(), AT - 5, signer=thief),
                "refused", "bad-signature")
        add(f"b-inner-bad-signature-{tag}",
            offline(key, iss, holder_ec, f"rider-{tag}-x", next_cat(), AT - 5, mutate_inner=True),
            "refused", "bad-signature")
        add(f"b-inner-expired-{tag}",
            offline(key, iss, holder_okp, f"rider-{tag}-y", next_cat(), AT - 5, inner_exp=AT - 3600),
            "refused", "expired")
        add(f"b-unknown-issuer-{tag}",
            offline(rogue, "xx.nowhere", holder_okp, f"rider-{tag}-z", next_cat(), AT - 5),
            "refused", "unknown-issuer")
        # the inner holder-bound credential lifted out of someone's profile (b) code (e.g. a photo
        # of the phone screen) and shown on its own, without the holder's proof
        seen = offline(key, iss, holder_ec, f"rider-{tag}-w", next_cat(), AT - 86400 * 3)
        inner_only = cbor2.loads(cbor2.loads(b45decode(seen[4:])).value[2])[1]
        add(f"b-inner-credential-alone-{tag}", qr(inner_only), "refused", "*",
            note="the inner credential of a profile (b) code (it has cnf) shown on its own without the"
                 " holder's outer signature must not pass as a profile (a) code; DESIGN 2 names no reason"
                 " code for this, so any refusal reason is accepted")

    # --- more cases (signature shapes, key rotation, time edges, headers)
    for hs in (False, True):
        for i in range(2):
            cat = next_cat()
            sub = f"acct-s{int(hs)}{i}"
            add(f"a-es256-{'high' if hs else 'low'}-s-{i}",
                qr(sign1(es, cbor2.dumps(claims(ISS_ES, sub, AT - 5, AT + 115, cat)), high_s=hs)),
                "accepted", "ok", who=who(ISS_ES, sub, cat),
                note="ECDSA signatures with s > n/2 are valid; RFC 9053 ES256 has no low-S rule")
    cat = next_cat()
    add("b-holder-ec2-high-s",
        qr(sign1(holder_ec, cbor2.dumps({1: sign1(es, cbor2.dumps(claims(ISS_ES, "rider-hs", AT - 86400, AT + 86400, cat, cnf=holder_ec)), high_s=True),
                                        2: AT - 5, 3: 1}), kid=holder_ec.kid, high_s=True)),
        "accepted", "ok", who=who(ISS_ES, "rider-hs", cat))
    add("a-es256-der-signature",
        qr(sign1(es, cbor2.dumps(claims(ISS_ES, "acct-der", AT - 5, AT + 115, next_cat())), der=True)),
        "refused", ["bad-signature", "malformed"], note="COSE ES256 signatures are r||s, not DER")
    add("a-key-not-yet-active-es256",
        qr(sign1(es_next, cbor2.dumps(claims(ISS_ES, "acct-next", AT - 5, AT + 115, next_cat())))),
        "refused", "unknown-key", note="JWK nbf in the future")
    for tag, old, iss in (("es256", es_old, ISS_ES), ("eddsa", ed_old, ISS_ED)):
        t0 = AT - 86400 * 60  # before the key's exp: the key was current then
        cat = next_cat()
        add(f"a-retired-key-before-retirement-{tag}",
            qr(sign1(old, cbor2.dumps(claims(iss, f"acct-old-{tag}", t0 - 5, t0 + 115, cat)))),
            "accepted", "ok", who=who(iss, f"acct-old-{tag}", cat), at=t0)
    add("a-exp-beyond-skew-es256",
        qr(sign1(es, cbor2.dumps(claims(ISS_ES, "acct-eb", AT - 100, AT - 45, next_cat())))),
        "refused", "expired")
    add("a-nbf-beyond-skew-eddsa",
        qr(sign1(ed, cbor2.dumps(claims(ISS_ED, "acct-nb", AT - 5, AT + 600, next_cat(), nbf=AT + 45)))),
        "refused", "not-yet-valid")
    add("b-stale-100s-eddsa-okp", offline(ed, ISS_ED, holder_okp, "rider-s100", next_cat(), AT - 100),
        "refused", "stale")
    add("b-outer-iat-future-es256-ec2", offline(es, ISS_ES, holder_ec, "rider-fut", next_cat(), AT + 300),
        "refused", ["not-yet-valid", "stale"],
        note="offline code iat 5 min in the future; DESIGN 2 does not say which reason")
    add("a-alg-confusion-es256-key-eddsa-header",
        qr(sign1(es, cbor2.dumps(claims(ISS_ES, "acct-alg", AT - 5, AT + 115, next_cat())), alg=ALG_EDDSA)),
        "refused", ["bad-signature", "unknown-key", "malformed"],
        note="header alg EdDSA with an ES256 key (JWK alg ES256)")
    add("a-no-kid",
        qr(sign1(es, cbor2.dumps(claims(ISS_ES, "acct-nokid", AT - 5, AT + 115, next_cat())),
                 protected=cbor2.dumps({1: ALG_ES256}))),
        "refused", ["malformed", "unknown-key"], note="protected header without kid")
    nexp = claims(ISS_ED, "acct-noexp", AT - 5, AT + 115, next_cat())
    del nexp[EXP]
    add("a-missing-exp", qr(sign1(ed, cbor2.dumps(nexp))), "refused", ["malformed", "expired"],
        note="DESIGN 2 lists exp among the profile (a) claims; a code without exp must not be valid forever")

    # a card certificate (DESIGN 3: issuer-signed, claims as in 2a, sub = card number, cnf = card
    # key), which anyone can read off the card, shown as a QR code
    card_cert = sign1(es, cbor2.dumps(claims(ISS_ES, "card-3100123456789", AT - 86400 * 300,
                                             AT + 86400 * 1000, "adult", cnf=holder_okp)))
    add("card-certificate-as-qr", qr(card_cert), "refused", "*",
        note="a cnf-bound card certificate without proof of possession must not pass as a profile (a)"
             " code; any refusal reason is accepted")

    # --- encodings that the standards allow
    cat = next_cat()
    fl = claims(ISS_ES, "acct-float", AT - 5.25, AT + 115.5, cat)
    add("a-float-numericdate",
        qr(sign1(es, cbor2.dumps(fl))), "accepted", "ok", who=who(ISS_ES, "acct-float", cat),
        note="RFC 8392 section 2: NumericDate may be an integer or a floating-point number")
    # ES256 r or s with a leading zero byte: r||s stays 32+32 bytes
    for i in range(100000):
        pl = cbor2.dumps(claims(ISS_ES, f"acct-lz", AT - 5, AT + 115, "staff", cti=b"lz%d" % i))
        cose = sign1(es, pl)
        sig = cbor2.loads(cose).value[3]
        if sig[0] == 0 or sig[32] == 0:
            break
    add("a-es256-leading-zero-r-or-s", qr(cose), "accepted", "ok", who=who(ISS_ES, "acct-lz", "staff"))
    cat = next_cat()
    add("a-valid-at-millisecond-time",
        qr(sign1(ed, cbor2.dumps(claims(ISS_ED, "acct-ms", AT - 5, AT + 115, cat)))),
        "accepted", "ok", who=who(ISS_ED, "acct-ms", cat), at_text=iso(AT)[:-1] + ".000Z")
    cat = next_cat()
    add("a-online-code-at-site-gate",
        qr(sign1(es, cbor2.dumps(claims(ISS_ES, "acct-site", AT - 5, AT + 115, cat)))),
        "accepted", "ok", site=SITE, gate="cq.ciqikou.g2", who=who(ISS_ES, "acct-site", cat),
        note="an online city code without product is not tied to a site")
    cat = next_cat()
    ck = dict(holder_ec.cose_key())
    ck[3] = ALG_ES256
    ck[2] = holder_ec.kid
    add("b-cose-key-with-alg-and-kid",
        offline(ed, ISS_ED, holder_ec, "rider-ck", cat, AT - 5, cose_key=ck),
        "accepted", "ok", who=who(ISS_ED, "rider-ck", cat))
    cat = next_cat()
    ckc = {1: 2, -1: 1, -2: holder_ec.x, -3: bool(holder_ec.y[-1] & 1)}
    add("b-cose-key-compressed-y",
        offline(es, ISS_ES, holder_ec, "rider-cy", cat, AT - 5, cose_key=ckc),
        "accepted", "ok", who=who(ISS_ES, "rider-cy", cat),
        note="RFC 9053 section 7.1.1: y may be a bool (point compression)")
    cat = next_cat()
    add("b-outer-kid-is-issuer-kid",
        offline(es, ISS_ES, holder_okp, "rider-ok", cat, AT - 5, outer_kid=es.kid),
        "accepted", "ok", who=who(ISS_ES, "rider-ok", cat),
        note="the outer signature is checked with the cnf key, whatever kid the outer header names")
    cat = next_cat()
    add("b-large-counter",
        offline(ed, ISS_ED, holder_okp, "rider-lc", cat, AT - 5, counter=2**40),
        "accepted", "ok", who=who(ISS_ED, "rider-lc", cat))
    cat = next_cat()
    bprod = {"site": SITE, "from": AT - 3600, "until": AT + 3600, "entries": 5}
    add("b-product-right-site",
        offline(es, ISS_ES, holder_ec, "rider-p1", cat, AT - 5, inner_extra={PRODUCT: bprod}),
        "accepted", "ok", site=SITE, who=who(ISS_ES, "rider-p1", cat))
    add("b-product-wrong-site",
        offline(es, ISS_ES, holder_ec, "rider-p2", next_cat(), AT - 5, inner_extra={PRODUCT: bprod}),
        "refused", "wrong-site", site="cq.hongyadong")
    add("b-inner-nbf-future",
        offline(ed, ISS_ED, holder_ec, "rider-nbf", next_cat(), AT - 5, inner_extra={NBF: AT + 3600}),
        "refused", "not-yet-valid")

    # --- malformed
    base = sign1(es, cbor2.dumps(claims(ISS_ES, "acct-m", AT - 5, AT + 115, "adult")))
    b45 = b45encode(base)
    add("m-no-prefix", b45, "refused", "malformed")
    add("m-wrong-prefix", "CG2:" + b45, "refused", "malformed")
    add("m-empty-after-prefix", "CG1:", "refused", "malformed")
    add("m-invalid-base45-char", "CG1:" + b45[:9] + "a" + b45[10:], "refused", "malformed")
    add("m-invalid-base45-hash", "CG1:" + b45[:9] + "#" + b45[10:], "refused", "malformed")
    dangling = b45 + "0" * ((1 - len(b45)) % 3)  # a valid code plus dangling characters
    assert len(dangling) % 3 == 1
    add("m-base45-length-mod3-1", "CG1:" + dangling, "refused", "malformed")
    add("m-base45-triplet-overflow", "CG1:" + b45[:9] + ":::" + b45[12:], "refused", "malformed")
    add("m-truncated-cbor", qr(base[:-11]), "refused", "malformed")
    add("m-trailing-bytes", qr(base + b"\x00"), "refused", "malformed")
    pl = cbor2.dumps(claims(ISS_ES, "acct-m2", AT - 5, AT + 115, "adult"))
    add("m-tag-17", qr(sign1(es, pl, tag=17)), "refused", "malformed")
    add("m-tag-98", qr(sign1(es, pl, tag=98)), "refused", "malformed")
    add("m-untagged", qr(sign1(es, pl, tag=None)), "refused", "malformed",
        note="DESIGN 2 says tagged 18; RFC 9052 allows untagged only where the context says so")
    add("m-garbage-payload-es256", qr(sign1(es, b"\xde\xad\xbe\xef garbage")), "refused", "malformed")
    add("m-garbage-payload-eddsa", qr(sign1(ed, b"\xff\x00\x13")), "refused", "malformed")
    add("m-payload-array", qr(sign1(ed, cbor2.dumps([1, 2, 3]))), "refused", "malformed")
    add("m-not-cbor-array", qr(cbor2.dumps(cbor2.CBORTag(18, {"a": 1}))), "refused", "malformed")

    # ------------------------------------------------------------ self-check
    bad = 0
    for c in cases:
        site = c.get("site")
        at = calendar.timegm(time.strptime(c["at"][:19], "%Y-%m-%dT%H:%M:%S"))
        res, reason, info = ref_check(c["text"], trust, at, site=site)
        e = c["expect"]
        ok_reason = (reason in e["reason"] if isinstance(e["reason"], list)
                     else reason != "ok" if e["reason"] == "*" else reason == e["reason"])
        ok = res == e["result"] and ok_reason
        for k in ("issuer", "subject", "category"):
            if k in e and info.get(k) != e[k]:
                ok = False
        if not ok:
            bad += 1
            sys.stderr.write(f"self-check: {c['name']}: expected {e}, reference verifier says {res} {reason} {info}\n")
    if bad:
        sys.stderr.write(f"gen_codes.py: {bad} cases disagree with the reference verifier\n")
        return 1

    with open(os.path.join(outdir, "trust.json"), "w") as f:
        json.dump(trust, f, indent=2)
    with open(os.path.join(outdir, "cases.json"), "w") as f:
        json.dump(cases, f, indent=2)
    print(f"gen_codes: {len(cases)} cases written to {outdir}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: gen_codes.py OUTDIR\n")
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
