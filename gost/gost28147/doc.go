// Package gost28147 implements the GOST 28147-89 block cipher with every
// S-box in use (RFC 5830, RFC 4357), Magma (GOST R 34.12-2015, RFC 8891),
// which is the same cipher with the tc26-z S-box and another byte order, and
// the modes that belong to GOST 28147-89 alone: CFB and the counter ("gamma")
// mode CNT with CryptoPro key meshing (RFC 4357 section 2.3), and the
// imitovstavka MAC. The modes of GOST R 34.13-2015 (CTR, OMAC, ACPKM…), which
// work on any block cipher, are in package gost/mode.
//
// # Byte order
//
// GOST 28147-89 works on 32-bit words. NewCipher reads them as OpenSSL's gost
// engine, CryptoPro CSP and CMS/PKCS#11 do: the key is eight little-endian
// words K1..K8 (key[0:4] is K1, key[0] its least significant byte) and a
// block is two little-endian words N1 = block[0:4], N2 = block[4:8]; the
// first round adds K1 to N1. The output block is N1' || N2' little-endian.
//
// RFC 8891 (Magma) writes the key and blocks as big numbers, most significant
// byte first: its key ffeeddcc…fcfdfeff has K1 = 0xffeeddcc, and a block
// a1 || a0 (a1 the high word) starts with a0 + K1. NewMagma takes key and
// blocks in that order, which is also OpenSSL's for magma-ctr, magma-cbc and
// GOST R 34.13-2015's examples. So Magma(key, block) equals
//
//	reverse8(GOST28147_Z(swap32(key), reverse8(block)))
//
// where reverse8 reverses the eight bytes of a block and swap32 reverses the
// bytes inside each 32-bit word of the key: the tests check this identity.
//
// # Side channels
//
// By default the round function substitutes through four 256-entry tables of
// 32-bit words (the usual merge of two 4-bit S-boxes with the 11-bit rotation
// into one look-up per byte). The table index depends on the key and the
// data, so where an attacker shares the CPU cache (another process on the same
// core, a co-tenant VM) the access pattern can leak key bits: the classic
// cache-timing exposure of table-based ciphers. The four tables take 4 KiB.
//
// Cipher.ConstantTime returns a variant whose substitution makes no memory
// access and no branch that depends on secrets: for each of the 16 nibble
// values it builds a mask of the nibbles equal to it (shifts, ORs and a
// multiplication by 15) and selects the eight boxes' outputs for that value.
// It computes the same function (the tests compare both on every S-box, and
// through ECB and CFB with key meshing) and costs about 7 times the time of
// the tables (BenchmarkBlock: on a loaded 2-core machine 1.8–2.5 MB/s against
// 13.8–14.8 MB/s). Use it for key material, e.g. decrypting a CryptoPro key
// container's primary.key (a few dozen bytes); the table version is for bulk
// data where the attacker above is not in the threat model. Constant time is
// by construction, checked by reading the code (no secret-indexed load or
// branch in fCT, meshing, the modes' counters or the MAC); it was not measured
// statistically, because timing statistics on the shared test machines say
// nothing. Both versions have branch structures and operation counts that do
// not depend on secrets.
//
// GOST 28147-89's 64-bit block limits how much data one key may protect;
// CryptoPro key meshing (changing the key every 1 KiB) is used by CFB and
// CNT with the CryptoPro S-boxes for that reason, and ACPKM (gost/mode) is
// the modern equivalent.
package gost28147
