/* enginewrap: calls the key-wrap functions of OpenSSL's gost engine (gost.so
 * exports them) so that engine_test.go can compare kep with the engine's own
 * code. Built by the test: cc enginewrap.c -lcrypto -ldl. Reads lines
 *   divers SBOX KEK UKM          -> keyDiversifyCryptoPro
 *   cpwrap SBOX KEK UKM CEK      -> keyWrapCryptoPro
 *   wrap28147 SBOX KEK UKM CEK   -> RFC 4357 6.1 from the engine's gost_key,
 *                                   gost_enc (ECB) and gost_mac_iv
 *   kexp15 CIPHER KEY KENC KMAC IV -> gost_kexp15 (CIPHER magma|kuznyechik)
 *   kimp15 CIPHER EXP KENC KMAC IV -> gost_kimp15 (prints the key, or "fail")
 * (hex arguments; SBOX one of A B C D Z) and prints one hex line per request.
 * argv[1] is the path of gost.so; OPENSSL_CONF must load the engine. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/engine.h>
#include <openssl/objects.h>

static void *sym(void *h, const char *name) {
	void *p = dlsym(h, name);
	if (!p) { fprintf(stderr, "no symbol %s\n", name); exit(2); }
	return p;
}

static int unhex(const char *s, unsigned char *out, int max) {
	int n = (int)strlen(s) / 2;
	if (n > max) return -1;
	for (int i = 0; i < n; i++) { unsigned v; sscanf(s + 2 * i, "%2x", &v); out[i] = (unsigned char)v; }
	return n;
}

static void put(const unsigned char *b, int n) {
	for (int i = 0; i < n; i++) printf("%02x", b[i]);
	printf("\n");
	fflush(stdout);
}

int main(int argc, char **argv) {
	if (argc != 2) return 2;
	OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
	ENGINE *e = ENGINE_by_id("gost");
	if (!e) { fprintf(stderr, "no gost engine\n"); return 2; }
	void *h = dlopen(argv[1], RTLD_NOW);
	if (!h) { fprintf(stderr, "%s\n", dlerror()); return 2; }
	void (*gost_init)(void *, const void *) = sym(h, "gost_init");
	void (*divers)(void *, const unsigned char *, const unsigned char *, unsigned char *) = sym(h, "keyDiversifyCryptoPro");
	int (*wrap)(void *, const unsigned char *, const unsigned char *, const unsigned char *, unsigned char *) = sym(h, "keyWrapCryptoPro");
	void (*gkey)(void *, const unsigned char *) = sym(h, "gost_key");
	void (*genc)(void *, const unsigned char *, unsigned char *, int) = sym(h, "gost_enc");
	int (*gmaciv)(void *, int, const unsigned char *, const unsigned char *, unsigned int, unsigned char *) = sym(h, "gost_mac_iv");
	int (*kimp15)(const unsigned char *, int, int, const unsigned char *, int, const unsigned char *, const unsigned char *, size_t, unsigned char *) = sym(h, "gost_kimp15");
	int (*kexp15)(const unsigned char *, int, int, const unsigned char *, int, unsigned char *, const unsigned char *, size_t, unsigned char *, int *) = sym(h, "gost_kexp15");
	const char *boxes[] = {"Gost28147_CryptoProParamSetA", "Gost28147_CryptoProParamSetB", "Gost28147_CryptoProParamSetC", "Gost28147_CryptoProParamSetD", "Gost28147_TC26ParamSetZ"};
	static unsigned char ctx[1 << 16];
	char line[1024], op[16], a[8][200];
	while (fgets(line, sizeof line, stdin)) {
		int n = sscanf(line, "%15s %199s %199s %199s %199s %199s", op, a[0], a[1], a[2], a[3], a[4]);
		unsigned char k[64], u[64], c[64], out[128], m[64], iv[64];
		if (!strcmp(op, "divers") || !strcmp(op, "cpwrap") || !strcmp(op, "wrap28147")) {
			const char *box = strchr("ABCDZ", a[0][0]) ? boxes[strchr("ABCDZ", a[0][0]) - "ABCDZ"] : NULL;
			if (!box || unhex(a[1], k, 32) != 32 || unhex(a[2], u, 8) != 8) { printf("bad\n"); continue; }
			gost_init(ctx, sym(h, box));
			if (!strcmp(op, "divers")) { divers(ctx, k, u, out); put(out, 32); continue; }
			if (n < 5 || unhex(a[3], c, 32) != 32) { printf("bad\n"); continue; }
			if (!strcmp(op, "wrap28147")) {
				gkey(ctx, k);
				memcpy(out, u, 8);
				genc(ctx, c, out + 8, 4);
				gmaciv(ctx, 32, u, c, 32, out + 40);
			} else {
				wrap(ctx, k, u, c, out);
			}
			put(out, 44);
		} else if (!strcmp(op, "kexp15")) {
			int kuz = !strcmp(a[0], "kuznyechik");
			int cn = OBJ_sn2nid(kuz ? "kuznyechik-ctr" : "magma-ctr"), mn = OBJ_sn2nid(kuz ? "kuznyechik-mac" : "magma-mac");
			int ivl = unhex(a[4], iv, 16), outl = sizeof out;
			if (unhex(a[1], c, 32) != 32 || unhex(a[2], k, 32) != 32 || unhex(a[3], m, 32) != 32) { printf("bad\n"); continue; }
			if (kexp15(c, 32, cn, k, mn, m, iv, (size_t)ivl, out, &outl) <= 0) { printf("fail\n"); fflush(stdout); continue; }
			put(out, outl);
		} else if (!strcmp(op, "kimp15")) {
			int kuz = !strcmp(a[0], "kuznyechik");
			int cn = OBJ_sn2nid(kuz ? "kuznyechik-ctr" : "magma-ctr"), mn = OBJ_sn2nid(kuz ? "kuznyechik-mac" : "magma-mac");
			int el = unhex(a[1], c, 64), ivl = unhex(a[4], iv, 16);
			if (el < 0 || unhex(a[2], k, 32) != 32 || unhex(a[3], m, 32) != 32) { printf("bad\n"); continue; }
			if (kimp15(c, el, cn, k, mn, m, iv, (size_t)ivl, out) <= 0) { printf("fail\n"); fflush(stdout); continue; }
			put(out, 32);
		} else {
			printf("bad\n");
		}
	}
	return 0;
}
