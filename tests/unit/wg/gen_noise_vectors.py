#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# A deliberately naive WireGuard handshake (whitepaper 5.4) in Python, built only on
# hashlib/hmac and the cryptography package (Debian python3-cryptography): it produced the
# fixed-key vectors in test_noise.c (test_reference_vectors). Run: /usr/bin/python3 gen_noise_vectors.py
import hashlib, hmac, struct
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization as ser

def H(*parts): return hashlib.blake2s(b"".join(parts)).digest()
def MAC(k, m): return hashlib.blake2s(m, key=k, digest_size=16).digest()
def HMAC(k, m): return hmac.new(k, m, hashlib.blake2s).digest()
def KDF(n, ck, inp):
    t0 = HMAC(ck, inp); out = []; prev = b""
    for i in range(1, n + 1):
        prev = HMAC(t0, prev + bytes([i])); out.append(prev)
    return out
def pub(priv): return X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw)
def DH(priv, p): return X25519PrivateKey.from_private_bytes(priv).exchange(X25519PublicKey.from_public_bytes(p))
def AEAD(k, ctr, pt, ad): return ChaCha20Poly1305(k).encrypt(b"\0"*4 + struct.pack("<Q", ctr), pt, ad)
def seq(start): return bytes((start + i) & 0xff for i in range(32))
def tai64n(ns):
    s, n = divmod(ns, 10**9); n &= ~((1 << 24) - 1)
    return struct.pack(">QI", (1 << 62) + 10 + s, n)

Si, Sr, Ei, Er, Q = seq(0x10), seq(0x80), seq(0x20), seq(0x60), seq(0xa0)
Si_pub, Sr_pub = pub(Si), pub(Sr)
IA, IB = 0x11223344, 0x55667788
C = H(b"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s")
Hh = H(C, b"WireGuard v1 zx2c4 Jason@zx2c4.com")
Hh = H(Hh, Sr_pub)
Ei_pub = pub(Ei)
C, = KDF(1, C, Ei_pub)
msg = struct.pack("<II", 1, IA) + Ei_pub
Hh = H(Hh, Ei_pub)
C, k = KDF(2, C, DH(Ei, Sr_pub))
es = AEAD(k, 0, Si_pub, Hh); msg += es; Hh = H(Hh, es)
C, k = KDF(2, C, DH(Si, Sr_pub))
ts = AEAD(k, 0, tai64n(1700000000 * 10**9), Hh); msg += ts; Hh = H(Hh, ts)
init = msg + MAC(H(b"mac1----", Sr_pub), msg) + b"\0" * 16
assert len(init) == 148
# response
Er_pub = pub(Er)
msg = struct.pack("<III", 2, IB, IA) + Er_pub
C, = KDF(1, C, Er_pub); Hh = H(Hh, Er_pub)
C, = KDF(1, C, DH(Er, Ei_pub))
C, = KDF(1, C, DH(Er, Si_pub))
C, tau, k = KDF(3, C, Q); Hh = H(Hh, tau)
en = AEAD(k, 0, b"", Hh); msg += en; Hh = H(Hh, en)
resp = msg + MAC(H(b"mac1----", Si_pub), msg) + b"\0" * 16
assert len(resp) == 92
T_send_i, T_recv_i = KDF(2, C, b"")
def c(name, b):
    print("static const char %s[] =" % name)
    h = b.hex()
    for i in range(0, len(h), 64):
        print('\t"%s"%s' % (h[i:i+64], ";" if i + 64 >= len(h) else ""))
c("vec_initiation", init); c("vec_response", resp); c("vec_i_send", T_send_i); c("vec_i_recv", T_recv_i)
