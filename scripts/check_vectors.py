#!/usr/bin/env python3
"""A second, independent implementation of session-core's cookie format v1.

Recomputes every known-answer vector in session-core/tests/vectors/cookie-v1.json from the
format's description (docs/cookie-format.md) alone: the derived keys and key id, the exact JWS
header, the claims in their fixed order, the HS256 cookie and, for the sealed vectors, the
dir + A256GCM JWE under the vector's IV. session-core's unit tests (src/codec/vectors.rs) check
the same file, so a change of derivation label, header bytes or claim order fails in both.

It also checks that docs/cookie-format.md quotes the first vectors correctly. The key
derivation, key id and JWS use the standard library only. The sealed vectors need the
`cryptography` package (AESGCM); without it this script fails: it never skips a vector.

Usage: python3 scripts/check_vectors.py [VECTORS_JSON]
"""

import base64
import hashlib
import hmac
import json
import pathlib
import sys

DEFAULT_VECTORS = (
    pathlib.Path(__file__).resolve().parent.parent
    / "session-core"
    / "tests"
    / "vectors"
    / "cookie-v1.json"
)

SPEC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "cookie-format.md"

# docs/cookie-format.md, "Keys": HMAC-SHA256(secret, label) per purpose.
SIGNING_LABEL = b"session-core v1 signing"
KID_LABEL = b"session-core v1 key id"
ENCRYPTION_LABEL = b"session-core v1 encryption"
STORE_KEY_LABEL = b"session-core v1 store key"
KID_BYTES = 6

# docs/cookie-format.md, "Claims": the order they are written in, and when each is left out.
CLAIM_ORDER = ("sid", "sub", "roles", "iat", "exp", "auth_time", "data", "transient")
REQUIRED = {"sid", "iat", "exp", "auth_time"}
OMITTED_WHEN = {"sub": None, "roles": [], "data": {}, "transient": False}


def b64(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def label_hmac(secret: bytes, label: bytes) -> bytes:
    return hmac.new(secret, label, hashlib.sha256).digest()


def derive(secret: bytes) -> dict:
    return {
        "signing_key_hex": label_hmac(secret, SIGNING_LABEL).hex(),
        "kid": b64(label_hmac(secret, KID_LABEL)[:KID_BYTES]),
        "encryption_key_hex": label_hmac(secret, ENCRYPTION_LABEL).hex(),
        "store_key_mac_key_hex": label_hmac(secret, STORE_KEY_LABEL).hex(),
    }


def claims_json(claims: dict) -> str:
    """The claims as the cookie carries them: fixed order, empty optional claims left out,
    no whitespace, non-ASCII as raw UTF-8."""
    unknown = set(claims) - set(CLAIM_ORDER)
    missing = REQUIRED - set(claims)
    if unknown or missing:
        raise ValueError(f"claims: unknown {sorted(unknown)}, missing {sorted(missing)}")
    ordered = {
        name: claims[name]
        for name in CLAIM_ORDER
        if name in claims and not (name in OMITTED_WHEN and claims[name] == OMITTED_WHEN[name])
    }
    return json.dumps(ordered, separators=(",", ":"), ensure_ascii=False)


def jws_header(kid: str) -> str:
    return '{"alg":"HS256","kid":"%s","typ":"JWT"}' % kid


def jwe_header(kid: str) -> str:
    return '{"alg":"dir","enc":"A256GCM","kid":"%s"}' % kid


def signed_cookie(signing_key: bytes, kid: str, payload: str) -> str:
    header = b64(jws_header(kid).encode("ascii"))
    body = b64(payload.encode("utf-8"))
    tag = hmac.new(signing_key, f"{header}.{body}".encode("ascii"), hashlib.sha256).digest()
    return f"{header}.{body}.{b64(tag)}"


def sealed_cookie(aesgcm, kid: str, iv: bytes, payload: str) -> str:
    header = b64(jwe_header(kid).encode("ascii"))
    # AESGCM appends the 16-byte tag; the AAD is the ASCII header segment.
    sealed = aesgcm.encrypt(iv, payload.encode("utf-8"), header.encode("ascii"))
    ciphertext, tag = sealed[:-16], sealed[-16:]
    return f"{header}..{b64(iv)}.{b64(ciphertext)}.{b64(tag)}"


def open_sealed(aesgcm, cookie: str) -> str:
    """Opens a sealed cookie as a JOSE library would (AAD = the header segment); the plaintext,
    or why it could not be opened."""
    try:
        header, _, iv, ciphertext, tag = cookie.split(".")
        plaintext = aesgcm.decrypt(
            b64decode(iv), b64decode(ciphertext) + b64decode(tag), header.encode("ascii")
        )
        return plaintext.decode("utf-8")
    except Exception as e:  # any failure is a mismatch, reported with the others
        return f"<cannot open: {type(e).__name__} {e}>"


def load_aesgcm():
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:
        sys.stderr.write(
            "\n"
            "ERROR: the Python package `cryptography` is not installed, so the sealed (JWE)\n"
            "ERROR: vectors cannot be checked. Install it (scripts/test does):\n"
            "ERROR:     python3 -m pip install --quiet cryptography\n\n"
        )
        sys.exit(2)
    return AESGCM


class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name: str, pairs) -> None:
        """One vector: every (what, expected, computed) must agree."""
        wrong = [(what, want, got) for what, want, got in pairs if want != got]
        if wrong:
            self.failed += 1
            print(f"FAIL {name}")
            for what, want, got in wrong:
                print(f"    {what}:\n      vector:   {want!r}\n      computed: {got!r}")
        else:
            self.passed += 1
            print(f"ok   {name}")


def main() -> int:
    path = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_VECTORS
    vectors = json.loads(path.read_text(encoding="utf-8"))
    aesgcm = load_aesgcm()
    checker = Checker()

    secret = bytes.fromhex(vectors["secret_hex"])
    derived = derive(secret)
    checker.check(
        "derived keys",
        [(k, vectors["derived"][k], derived[k]) for k in sorted(derived)],
    )
    kid = derived["kid"]
    signing_key = bytes.fromhex(derived["signing_key_hex"])
    encryption_key = bytes.fromhex(derived["encryption_key_hex"])

    for v in vectors["signed"]:
        payload = claims_json(v["claims"])
        checker.check(
            f"signed: {v['name']}",
            [
                ("header_json", v["header_json"], jws_header(kid)),
                ("claims_json", v["claims_json"], payload),
                ("cookie", v["cookie"], signed_cookie(signing_key, kid, payload)),
            ],
        )

    cipher = aesgcm(encryption_key)
    for v in vectors["sealed"]:
        payload = claims_json(v["claims"])
        iv = bytes.fromhex(v["iv_hex"])
        opened = open_sealed(cipher, v["cookie"])
        checker.check(
            f"sealed: {v['name']}",
            [
                ("header_json", v["header_json"], jwe_header(kid)),
                ("claims_json", v["claims_json"], payload),
                ("cookie", v["cookie"], sealed_cookie(cipher, kid, iv, payload)),
                ("opened plaintext", v["claims_json"], opened),
            ],
        )

    # docs/cookie-format.md, "The session-store cookie": <store key>.<base64url(HMAC)>.
    store_mac_key = bytes.fromhex(derived["store_key_mac_key_hex"])
    for v in vectors["store"]:
        tag = b64(hmac.new(store_mac_key, v["store_key"].encode("utf-8"), hashlib.sha256).digest())
        checker.check(
            f"store: {v['name']}",
            [("cookie", v["cookie"], f"{v['store_key']}.{tag}")],
        )

    # The specification quotes the first vectors; keep the quotes true.
    spec = SPEC.read_text(encoding="utf-8")
    quoted = [
        vectors["secret_hex"],
        vectors["derived"]["signing_key_hex"],
        vectors["derived"]["encryption_key_hex"],
        vectors["derived"]["kid"],
        vectors["signed"][0]["claims_json"],
        vectors["signed"][0]["cookie"],
        vectors["sealed"][0]["iv_hex"],
        vectors["sealed"][0]["cookie"],
        vectors["derived"]["store_key_mac_key_hex"],
        vectors["store"][0]["cookie"],
    ]
    checker.check(
        "docs/cookie-format.md quotes the vectors",
        [("quoted in the spec", value, value if value in spec else "<missing>") for value in quoted],
    )

    print(f"cookie-vectors: {checker.passed} passed, {checker.failed} failed")
    return 1 if checker.failed else 0


if __name__ == "__main__":
    sys.exit(main())
