#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Independent WireGuard data messages for test_aead.c (test_python_vectors): built with the
# cryptography package's ChaCha20-Poly1305 (Debian python3-cryptography, OpenSSL underneath),
# neither libsodium nor ipsec-mb. Each line is: padded length, counter, receiver index, and the
# BLAKE2b-256 of the whole sealed message (header || ciphertext || tag), so a 1420-byte vector
# stays one line. Key byte i = 0x40 + 3i; plaintext byte i = (31i + 7) mod 256.
# Run: /usr/bin/python3 gen_vectors.py
import hashlib, struct
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

KEY = bytes((0x40 + 3 * i) & 0xff for i in range(32))
CASES = [(0, 0, 1), (1, 1, 0x01020304), (16, 0xff, 0xdeadbeef), (64, 0x1122334455667788, 7),
         (512, 1 << 32, 0x80000000), (1420, 0xfffffffffffffffe, 0xffffffff)]

for size, counter, receiver in CASES:
    plain = bytes((31 * i + 7) & 0xff for i in range(size))
    nonce = b"\0" * 4 + struct.pack("<Q", counter)
    msg = struct.pack("<IIQ", 4, receiver, counter) + ChaCha20Poly1305(KEY).encrypt(nonce, plain, None)
    print('\t{ %d, 0x%016xULL, 0x%08x, "%s" },' % (size, counter, receiver,
                                                     hashlib.blake2b(msg, digest_size=32).hexdigest()))
