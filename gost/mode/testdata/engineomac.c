/* engineomac: OMAC-ACPKM of OpenSSL's gost engine (the digest
 * kuznyechik-ctr-acpkm-omac; magma-ctr-acpkm-omac where the engine has it), keyed and given their
 * section sizes through EVP_MD_CTX_ctrl as the engine's own test_digest.c
 * does), for engine_test.go. Built by the test: cc engineomac.c -lcrypto
 * (the ENGINE API is deprecated in OpenSSL 3 but is how the engine is reached).
 * Reads lines "CIPHER KEYHEX N TSTAR MSGHEX" (CIPHER magma|kuznyechik, N and
 * TSTAR in bytes, MSGHEX may be "-" for empty) and prints the MAC in hex.
 * OPENSSL_CONF must load the engine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#define MD_CTRL_SET_KEY (0x1000 + 4) /* EVP_MD_CTRL_ALG_CTRL + 4, gost_lcl.h */
#define CTRL_KEY_MESH 0x20           /* EVP_CTRL_KEY_MESH */

static int unhex(const char *s, unsigned char *out, int max) {
	if (!strcmp(s, "-")) return 0;
	int n = (int)strlen(s) / 2;
	if (n > max) return -1;
	for (int i = 0; i < n; i++) { unsigned v; sscanf(s + 2 * i, "%2x", &v); out[i] = (unsigned char)v; }
	return n;
}

int main(void) {
	OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
	ENGINE *e = ENGINE_by_id("gost");
	if (!e) { fprintf(stderr, "no gost engine\n"); return 2; }
	static char line[1 << 16], msgh[1 << 16];
	static unsigned char msg[1 << 15];
	char cipher[32], keyh[128];
	while (fgets(line, sizeof line, stdin)) {
		int n, t;
		unsigned char key[32], out[EVP_MAX_MD_SIZE];
		unsigned int outl = 0;
		if (sscanf(line, "%31s %127s %d %d %65535s", cipher, keyh, &n, &t, msgh) != 5 || unhex(keyh, key, 32) != 32) {
			printf("bad\n"); fflush(stdout); continue;
		}
		int ml = unhex(msgh, msg, sizeof msg);
		/* The engine's digest by NID (these names are not in the EVP name table). */
		const EVP_MD *md = ENGINE_get_digest(e, OBJ_sn2nid(!strcmp(cipher, "magma") ? "magma-ctr-acpkm-omac" : "kuznyechik-ctr-acpkm-omac"));
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		size_t tt = (size_t)t;
		if (!md || ml < 0 || !ctx || EVP_DigestInit_ex(ctx, md, e) != 1 ||
		    EVP_MD_CTX_ctrl(ctx, MD_CTRL_SET_KEY, 32, key) <= 0 ||
		    EVP_MD_CTX_ctrl(ctx, CTRL_KEY_MESH, n, &tt) <= 0 ||
		    EVP_DigestUpdate(ctx, msg, (size_t)ml) != 1 || EVP_DigestFinal_ex(ctx, out, &outl) != 1) {
			ERR_print_errors_fp(stderr);
			printf("fail\n"); fflush(stdout);
			EVP_MD_CTX_free(ctx);
			continue;
		}
		EVP_MD_CTX_free(ctx);
		for (unsigned i = 0; i < outl; i++) printf("%02x", out[i]);
		printf("\n");
		fflush(stdout);
	}
	return 0;
}
