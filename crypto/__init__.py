"""Checkpass crypto: a pure library (no I/O) on PyNaCl and cbor2.

keys      Ed25519 key pairs, kids, passphrase-encrypted private keys
cose      COSE_Sign1 (RFC 9052), EdDSA
passes    the pass: CWT-style claims, Base45 text `TP1:...`, QR code
trust     the root-signed trust bundle of issuer keys
status    per-issuer-key revocation bitstrings and their deltas
verify    the offline verifier: text + trust data -> Verdict, never raises
identity  national ID / 統一編號 validators and masking
"""
