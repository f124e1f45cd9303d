/*
 * gostbench.c — the OpenSSL 3.0 + gost-engine side of kep's `make bench`.
 *
 * Measures the reference speed of the GOST primitives kep implements in pure
 * Go, in the same run as kep's own Go benchmarks (bench/run.sh builds and runs
 * this program, bench/cmd/benchcmp compares the numbers).
 *
 * The gost engine is loaded through the OpenSSL configuration named by
 * OPENSSL_CONF (bench/run.sh writes one); nothing here names the engine.
 *
 * Usage: gostbench [-t SECONDS] [-cms DIR] [-l] [-check] [OP ...]
 *   -t SECONDS   measuring time per operation (default: $GOSTBENCH_TIME or 1.0)
 *   -cms DIR     the CMS fixtures for the cms-verify/ operations (default:
 *                $KEP_BENCH_CMS_DIR): DIR/<name>/root.pem, sig.der (detached
 *                SignedData, DER) and content.bin; bench/run.sh makes them
 *   -l           list the operation names and units and exit
 *   -check       check that the gost engine is loaded, print the header and exit
 *   OP           run only the named operations; a name ending in "/" selects
 *                every operation starting with it, e.g. `gostbench streebog256 sign/`
 *
 * Output, one line per operation on stdout, space-separated key=value fields:
 *   op=streebog256 unit=MB/s value=91.3 iters=91 secs=1.002
 *   op=sign/cryptopro-a unit=ops/s value=15830 iters=15846 secs=1.001
 *   op=sign/tc26-512-c unit=ops/s value=- note=unsupported: <reason to end of line>
 *   op=cms-verify/rsa unit=ops/s value=- note=skipped: <reason to end of line>
 * MB/s is 10^6 bytes per second (as `go test -bench` prints it). `note=` is
 * always the last field and runs to the end of the line.
 *
 * Exit status: 0 when every selected operation was measured, is reported
 * unsupported by the engine or skipped (no CMS fixtures given), 1 when some
 * operation failed, 2 on a usage error or when the gost engine is not loaded
 * at all.
 *
 * Adding an operation: write a setup/iter/teardown triple (setup prepares
 * everything that is not to be timed, iter does one timed unit of work) and
 * add a row to the ops[] table below; the name is the key benchcmp matches
 * against kep's Go benchmark of the same operation. bench/run.sh runs the
 * operations `benchcmp -plan` lists, so also add an opSpec with the same name
 * to operations() in bench/cmd/benchcmp/main.go (see bench/README.md).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

/* Result of an operation's setup. */
enum status {
	ST_OK = 0,
	ST_UNSUPPORTED = 1, /* the engine does not offer this operation */
	ST_ERROR = 2,       /* it should work but did not */
	ST_SKIPPED = 3      /* not measurable in this run (e.g. no CMS fixtures given) */
};

struct op {
	const char *name; /* kep's operation name, printed as op=NAME */
	const char *unit; /* "MB/s" (bytes > 0) or "ops/s" */
	size_t bytes;     /* bytes processed by one iteration, 0 for ops/s */
	const void *arg;  /* operation-specific parameter */
	/* Prepares the untimed state; on failure fills why (one line). */
	enum status (*setup)(const struct op *op, void **state, char *why, size_t whylen);
	/* One timed iteration; returns 1 on success. */
	int (*iter)(void *state);
	/* Releases the state (may be called with NULL). */
	void (*teardown)(void *state);
};

/* ---- helpers ---- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Writes fmt plus the first queued OpenSSL error (if any) into why. */
static void reason(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	size_t n;
	unsigned long e;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	e = ERR_peek_last_error();
	n = strlen(why);
	if (e != 0 && n + 3 < whylen) {
		snprintf(why + n, whylen - n, ": ");
		ERR_error_string_n(e, why + n + 2, whylen - n - 2);
	}
	ERR_clear_error();
	/* Keep the note on one line. */
	for (char *p = why; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

/* ---- Streebog (GOST R 34.11-2012): EVP_DigestUpdate on 1 MiB buffers ---- */

#define HASH_BUF (1u << 20)

struct hash_state {
	EVP_MD_CTX *ctx;
	unsigned char *buf;
};

static void hash_teardown(void *state)
{
	struct hash_state *s = state;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (s == NULL)
		return;
	if (s->ctx != NULL) {
		EVP_DigestFinal_ex(s->ctx, md, &mdlen);
		EVP_MD_CTX_free(s->ctx);
	}
	free(s->buf);
	free(s);
}

static enum status hash_setup(const struct op *op, void **state, char *why, size_t whylen)
{
	const char *mdname = op->arg;
	const EVP_MD *md = EVP_get_digestbyname(mdname);
	struct hash_state *s;

	if (md == NULL) {
		reason(why, whylen, "digest %s not available (gost engine not loaded?)", mdname);
		return ST_UNSUPPORTED;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->buf = malloc(op->bytes)) == NULL) {
		free(s);
		reason(why, whylen, "out of memory");
		return ST_ERROR;
	}
	for (size_t i = 0; i < op->bytes; i++)
		s->buf[i] = (unsigned char)(i * 131u + 7u);
	s->ctx = EVP_MD_CTX_new();
	if (s->ctx == NULL || EVP_DigestInit_ex(s->ctx, md, NULL) != 1) {
		reason(why, whylen, "EVP_DigestInit_ex(%s)", mdname);
		hash_teardown(s);
		return ST_ERROR;
	}
	*state = s;
	return ST_OK;
}

static int hash_iter(void *state)
{
	struct hash_state *s = state;

	return EVP_DigestUpdate(s->ctx, s->buf, HASH_BUF) == 1;
}

/* ---- symmetric ciphers: EVP_EncryptUpdate in place on 1 MiB buffers ---- */

struct cipher_state {
	EVP_CIPHER_CTX *ctx;
	unsigned char *buf;
};

static void cipher_teardown(void *state)
{
	struct cipher_state *s = state;

	if (s == NULL)
		return;
	EVP_CIPHER_CTX_free(s->ctx);
	free(s->buf);
	free(s);
}

static enum status cipher_setup(const struct op *op, void **state, char *why, size_t whylen)
{
	const char *name = op->arg; /* the engine's cipher name */
	const EVP_CIPHER *c = EVP_get_cipherbyname(name);
	static const unsigned char key[32] = "0123456789abcdef0123456789abcdef";
	struct cipher_state *s;

	if (c == NULL) {
		reason(why, whylen, "cipher %s not available (gost engine not loaded?)", name);
		return ST_UNSUPPORTED;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->buf = malloc(op->bytes)) == NULL) {
		free(s);
		reason(why, whylen, "out of memory");
		return ST_ERROR;
	}
	for (size_t i = 0; i < op->bytes; i++)
		s->buf[i] = (unsigned char)(i * 131u + 7u);
	s->ctx = EVP_CIPHER_CTX_new();
	/* The key's first bytes are the IV (as long as the cipher wants). */
	if (s->ctx == NULL || EVP_EncryptInit_ex(s->ctx, c, NULL, key, key) != 1) {
		reason(why, whylen, "EVP_EncryptInit_ex(%s)", name);
		cipher_teardown(s);
		return ST_ERROR;
	}
	*state = s;
	return ST_OK;
}

static int cipher_iter(void *state)
{
	struct cipher_state *s = state;
	int outl = 0;

	return EVP_EncryptUpdate(s->ctx, s->buf, &outl, s->buf, (int)HASH_BUF) == 1;
}

/* ---- GOST R 34.10-2012 sign / verify of a precomputed digest ---- */

struct gost_params {
	int nid;              /* NID_id_GostR3410_2012_256 or _512 */
	const char *paramset; /* the engine's "paramset" ctrl value */
	size_t digestlen;     /* 32 or 64 */
};

static const struct gost_params
	gp_cryptopro_a = { NID_id_GostR3410_2012_256, "A", 32 },
	gp_cryptopro_b = { NID_id_GostR3410_2012_256, "B", 32 },
	gp_cryptopro_c = { NID_id_GostR3410_2012_256, "C", 32 },
	gp_cryptopro_xcha = { NID_id_GostR3410_2012_256, "XA", 32 },
	gp_cryptopro_xchb = { NID_id_GostR3410_2012_256, "XB", 32 },
	gp_tc26_256_a = { NID_id_GostR3410_2012_256, "TCA", 32 },
	gp_tc26_256_b = { NID_id_GostR3410_2012_256, "TCB", 32 },
	gp_tc26_256_c = { NID_id_GostR3410_2012_256, "TCC", 32 },
	gp_tc26_256_d = { NID_id_GostR3410_2012_256, "TCD", 32 },
	gp_tc26_512_a = { NID_id_GostR3410_2012_512, "A", 64 },
	gp_tc26_512_b = { NID_id_GostR3410_2012_512, "B", 64 },
	gp_tc26_512_c = { NID_id_GostR3410_2012_512, "C", 64 };

struct sig_state {
	EVP_PKEY *priv;      /* key pair, used for signing */
	EVP_PKEY *pub;       /* public key only (DER round trip), used for verifying */
	EVP_PKEY_CTX *sctx;  /* initialised for EVP_PKEY_sign */
	EVP_PKEY_CTX *vctx;  /* initialised for EVP_PKEY_verify */
	unsigned char digest[64];
	size_t digestlen;
	unsigned char sig[256];
	size_t siglen;
};

static void sig_teardown(void *state)
{
	struct sig_state *s = state;

	if (s == NULL)
		return;
	EVP_PKEY_CTX_free(s->sctx);
	EVP_PKEY_CTX_free(s->vctx);
	EVP_PKEY_free(s->priv);
	EVP_PKEY_free(s->pub);
	free(s);
}

/* Generates a key for the parameter set, signs the digest once and checks the
 * signature, leaving contexts ready for both the sign and the verify loop. */
static enum status sig_setup(const struct op *op, void **state, char *why, size_t whylen)
{
	const struct gost_params *gp = op->arg;
	const char *alg = gp->nid == NID_id_GostR3410_2012_256 ? "gost2012_256" : "gost2012_512";
	EVP_PKEY_CTX *kctx = NULL;
	struct sig_state *s;
	unsigned char *der = NULL;
	const unsigned char *p;
	int derlen;
	enum status st = ST_ERROR;

	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		reason(why, whylen, "out of memory");
		return ST_ERROR;
	}
	kctx = EVP_PKEY_CTX_new_id(gp->nid, NULL);
	if (kctx == NULL) {
		reason(why, whylen, "no %s key support (gost engine not loaded?)", alg);
		st = ST_UNSUPPORTED;
		goto out;
	}
	if (EVP_PKEY_keygen_init(kctx) != 1) {
		reason(why, whylen, "EVP_PKEY_keygen_init(%s)", alg);
		goto out;
	}
	if (EVP_PKEY_CTX_ctrl_str(kctx, "paramset", gp->paramset) <= 0) {
		reason(why, whylen, "the engine rejects %s paramset %s", alg, gp->paramset);
		st = ST_UNSUPPORTED;
		goto out;
	}
	if (EVP_PKEY_keygen(kctx, &s->priv) != 1) {
		reason(why, whylen, "EVP_PKEY_keygen(%s paramset %s)", alg, gp->paramset);
		goto out;
	}

	/* A public-only copy of the key, as a verifier would have it. */
	derlen = i2d_PUBKEY(s->priv, &der);
	p = der;
	if (derlen <= 0 || (s->pub = d2i_PUBKEY(NULL, &p, derlen)) == NULL) {
		reason(why, whylen, "public key DER round trip");
		goto out;
	}

	s->digestlen = gp->digestlen;
	for (size_t i = 0; i < s->digestlen; i++)
		s->digest[i] = (unsigned char)(0x5a ^ (i * 37u + 11u));

	s->sctx = EVP_PKEY_CTX_new(s->priv, NULL);
	s->vctx = EVP_PKEY_CTX_new(s->pub, NULL);
	if (s->sctx == NULL || s->vctx == NULL
	    || EVP_PKEY_sign_init(s->sctx) != 1 || EVP_PKEY_verify_init(s->vctx) != 1) {
		reason(why, whylen, "EVP_PKEY_sign_init/verify_init");
		goto out;
	}
	s->siglen = sizeof(s->sig);
	if (EVP_PKEY_sign(s->sctx, s->sig, &s->siglen, s->digest, s->digestlen) != 1) {
		reason(why, whylen, "EVP_PKEY_sign");
		goto out;
	}
	if (s->siglen != 2 * s->digestlen) {
		reason(why, whylen, "signature is %zu bytes, want %zu", s->siglen, 2 * s->digestlen);
		goto out;
	}
	if (EVP_PKEY_verify(s->vctx, s->sig, s->siglen, s->digest, s->digestlen) != 1) {
		reason(why, whylen, "a fresh signature does not verify");
		goto out;
	}
	st = ST_OK;
out:
	OPENSSL_free(der);
	EVP_PKEY_CTX_free(kctx);
	if (st == ST_OK)
		*state = s;
	else
		sig_teardown(s);
	return st;
}

static int sign_iter(void *state)
{
	struct sig_state *s = state;
	size_t siglen = sizeof(s->sig);

	return EVP_PKEY_sign(s->sctx, s->sig, &siglen, s->digest, s->digestlen) == 1;
}

static int verify_iter(void *state)
{
	struct sig_state *s = state;

	return EVP_PKEY_verify(s->vctx, s->sig, s->siglen, s->digest, s->digestlen) == 1;
}

/* ---- CMS: full detached verification (d2i_CMS_ContentInfo + CMS_verify) ---- */

/* The fixture directory: -cms DIR, else $KEP_BENCH_CMS_DIR. */
static const char *cms_dir;

struct cms_state {
	X509_STORE *store;      /* the root, purpose any; built once like a verifier's */
	unsigned char *der;     /* the detached SignedData, DER */
	long derlen;
	unsigned char *content; /* the detached content */
	long contentlen;
};

static void cms_teardown(void *state)
{
	struct cms_state *s = state;

	if (s == NULL)
		return;
	X509_STORE_free(s->store);
	free(s->der);
	free(s->content);
	free(s);
}

/* Reads a whole file into *buf (malloc'd) and *len; returns 0 on success. */
static int read_file(const char *path, unsigned char **buf, long *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b = NULL;
	size_t cap = 0, n = 0, r;

	if (f == NULL)
		return -1;
	do {
		if (n == cap) {
			unsigned char *nb = realloc(b, cap = cap ? 2 * cap : 4096);

			if (nb == NULL) {
				free(b);
				fclose(f);
				return -1;
			}
			b = nb;
		}
		r = fread(b + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	if (ferror(f) || n > (size_t)0x7fffffff) {
		free(b);
		fclose(f);
		return -1;
	}
	fclose(f);
	*buf = b;
	*len = (long)n;
	return 0;
}

static int cms_iter(void *state)
{
	struct cms_state *s = state;
	const unsigned char *p = s->der;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, s->derlen);
	BIO *content = BIO_new_mem_buf(s->content, (int)s->contentlen);
	int ok = cms != NULL && content != NULL
		 && CMS_verify(cms, NULL, s->store, content, NULL, CMS_BINARY) == 1;

	BIO_free(content);
	CMS_ContentInfo_free(cms);
	return ok;
}

/* Loads DIR/<arg>/{root.pem,sig.der,content.bin}, builds the store and checks
 * that the signature verifies once. */
static enum status cms_setup(const struct op *op, void **state, char *why, size_t whylen)
{
	const char *name = op->arg;
	char path[4096];
	struct cms_state *s;
	BIO *bio;
	X509 *root = NULL;
	enum status st = ST_ERROR;

	if (cms_dir == NULL || *cms_dir == '\0') {
		reason(why, whylen, "no CMS fixtures: pass -cms DIR or set KEP_BENCH_CMS_DIR (bench/run.sh makes them)");
		return ST_SKIPPED;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		reason(why, whylen, "out of memory");
		return ST_ERROR;
	}
	snprintf(path, sizeof(path), "%s/%s/sig.der", cms_dir, name);
	if (read_file(path, &s->der, &s->derlen) != 0) {
		reason(why, whylen, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s/content.bin", cms_dir, name);
	if (read_file(path, &s->content, &s->contentlen) != 0) {
		reason(why, whylen, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s/root.pem", cms_dir, name);
	bio = BIO_new_file(path, "r");
	if (bio != NULL)
		root = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (root == NULL) {
		reason(why, whylen, "cannot read the root certificate %s", path);
		goto out;
	}
	s->store = X509_STORE_new();
	if (s->store == NULL || X509_STORE_add_cert(s->store, root) != 1
	    || X509_VERIFY_PARAM_set_purpose(X509_STORE_get0_param(s->store), X509_PURPOSE_ANY) != 1) {
		reason(why, whylen, "X509_STORE with %s", path);
		goto out;
	}
	if (!cms_iter(s)) {
		reason(why, whylen, "CMS_verify of %s/%s/sig.der fails", cms_dir, name);
		goto out;
	}
	st = ST_OK;
out:
	X509_free(root); /* the store holds its own reference */
	if (st == ST_OK)
		*state = s;
	else
		cms_teardown(s);
	return st;
}

/* ---- the operation table ---- */

#define HASH_OP(name, md) { name, "MB/s", HASH_BUF, md, hash_setup, hash_iter, hash_teardown }
#define CIPHER_OP(name, c) { name, "MB/s", HASH_BUF, c, cipher_setup, cipher_iter, cipher_teardown }
#define SIGN_OP(ps, gp) \
	{ "sign/" ps, "ops/s", 0, &gp, sig_setup, sign_iter, sig_teardown }, \
	{ "verify/" ps, "ops/s", 0, &gp, sig_setup, verify_iter, sig_teardown }
/* The fixture DIR/name: root.pem, sig.der, content.bin (see -cms). */
#define CMS_OP(name) { "cms-verify/" name, "ops/s", 0, name, cms_setup, cms_iter, cms_teardown }
/* The same verification beside kep's warm-anchor figure: OpenSSL keeps no
 * precomputed table for a trusted key, so this is its best equivalent. */
#define CMS_WARM_OP(name) { "cms-verify-warm/" name, "ops/s", 0, name, cms_setup, cms_iter, cms_teardown }

static const struct op ops[] = {
	HASH_OP("streebog256", "md_gost12_256"),
	HASH_OP("streebog512", "md_gost12_512"),
	CIPHER_OP("magma-ctr", "magma-ctr"),
	CIPHER_OP("kuznyechik-ctr", "kuznyechik-ctr"),
	CIPHER_OP("gost89-cfb", "gost89"), /* CFB, CryptoPro-A, CryptoPro key meshing */
	SIGN_OP("cryptopro-a", gp_cryptopro_a),
	SIGN_OP("cryptopro-b", gp_cryptopro_b),
	SIGN_OP("cryptopro-c", gp_cryptopro_c),
	SIGN_OP("cryptopro-xcha", gp_cryptopro_xcha),
	SIGN_OP("cryptopro-xchb", gp_cryptopro_xchb),
	SIGN_OP("tc26-256-a", gp_tc26_256_a),
	SIGN_OP("tc26-256-b", gp_tc26_256_b),
	SIGN_OP("tc26-256-c", gp_tc26_256_c),
	SIGN_OP("tc26-256-d", gp_tc26_256_d),
	SIGN_OP("tc26-512-a", gp_tc26_512_a),
	SIGN_OP("tc26-512-b", gp_tc26_512_b),
	SIGN_OP("tc26-512-c", gp_tc26_512_c),
	CMS_OP("gost256"), /* GOST-256 (CryptoPro-A) root -> GOST-256 leaf, md_gost12_256 */
	CMS_OP("gost512"), /* GOST-256 root -> GOST-512 (tc26-512-A) leaf, md_gost12_512 */
	CMS_OP("rsa"),     /* RSA-2048 root -> RSA-2048 leaf, sha256 */
	CMS_WARM_OP("gost256"),
	CMS_WARM_OP("gost512"),
	CMS_OP("xl1"),     /* kep's CAdES-X Long Type 1 (sign BenchmarkXL1Verify writes it): CMS_verify checks its signature and chain only */
};

#define NOPS (sizeof(ops) / sizeof(ops[0]))

/* ---- driver ---- */

static int selected(const char *name, int argc, char **argv)
{
	if (argc == 0)
		return 1;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (strcmp(name, argv[i]) == 0 || (n > 0 && argv[i][n - 1] == '/' && strncmp(name, argv[i], n) == 0))
			return 1;
	}
	return 0;
}

/* Runs op for secs seconds after a short warm-up; returns 0 on success. */
static int measure(const struct op *op, double secs)
{
	void *state = NULL;
	char why[512] = "";
	enum status st;
	double start, end, warm, rate;
	unsigned long long n = 0;

	st = op->setup(op, &state, why, sizeof(why));
	if (st != ST_OK) {
		printf("op=%s unit=%s value=- note=%s: %s\n", op->name, op->unit,
		       st == ST_UNSUPPORTED ? "unsupported" : st == ST_SKIPPED ? "skipped" : "error", why);
		fflush(stdout);
		return st == ST_ERROR ? 1 : 0;
	}

	warm = secs / 10 < 0.2 ? secs / 10 : 0.2;
	start = now();
	do {
		if (!op->iter(state))
			goto fail;
	} while (now() - start < warm);

	start = now();
	do {
		if (!op->iter(state))
			goto fail;
		n++;
		end = now();
	} while (end - start < secs);

	rate = (double)n / (end - start);
	if (op->bytes > 0)
		printf("op=%s unit=%s value=%.1f iters=%llu secs=%.3f\n", op->name, op->unit,
		       rate * (double)op->bytes / 1e6, n, end - start);
	else
		printf("op=%s unit=%s value=%.0f iters=%llu secs=%.3f\n", op->name, op->unit,
		       rate, n, end - start);
	fflush(stdout);
	op->teardown(state);
	return 0;

fail:
	reason(why, sizeof(why), "iteration %llu failed", n);
	printf("op=%s unit=%s value=- note=error: %s\n", op->name, op->unit, why);
	fflush(stdout);
	op->teardown(state);
	return 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: gostbench [-t SECONDS] [-cms DIR] [-l] [-check] [OP ...]   (OP/ selects a prefix)\n"
		   "  OPENSSL_CONF must name a config that loads the gost engine; DIR (or\n"
		   "  $KEP_BENCH_CMS_DIR) holds the cms-verify fixtures <name>/{root.pem,sig.der,content.bin}.\n");
}

int main(int argc, char **argv)
{
	double secs = 1.0;
	const char *env = getenv("GOSTBENCH_TIME");
	int list = 0, check = 0, failed = 0, ran = 0, i;

	if (env != NULL && *env != '\0')
		secs = strtod(env, NULL);
	cms_dir = getenv("KEP_BENCH_CMS_DIR");
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
			char *end;

			errno = 0;
			secs = strtod(argv[++i], &end);
			if (errno != 0 || *end != '\0') {
				usage(stderr);
				return 2;
			}
		} else if (strcmp(argv[i], "-cms") == 0 && i + 1 < argc) {
			cms_dir = argv[++i];
		} else if (strcmp(argv[i], "-l") == 0) {
			list = 1;
		} else if (strcmp(argv[i], "-check") == 0) {
			check = 1;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!(secs > 0 && secs < 3600)) {
		fprintf(stderr, "gostbench: bad measuring time %g s\n", secs);
		return 2;
	}
	argc -= i;
	argv += i;

	for (size_t k = 0; k < NOPS; k++) {
		if (!selected(ops[k].name, argc, argv))
			continue;
		ran++;
		if (list)
			printf("%s\t%s\n", ops[k].name, ops[k].unit);
	}
	if (ran == 0 && !check) {
		fprintf(stderr, "gostbench: no operation matches; -l lists them\n");
		return 2;
	}
	if (list)
		return 0;

	if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1) {
		fprintf(stderr, "gostbench: OpenSSL initialisation (config %s) failed\n",
			getenv("OPENSSL_CONF") ? getenv("OPENSSL_CONF") : "(default)");
		ERR_print_errors_fp(stderr);
		return 2;
	}
	if (EVP_get_digestbyname("md_gost12_256") == NULL) {
		fprintf(stderr, "gostbench: the gost engine is not loaded: set OPENSSL_CONF to a "
				"config that loads it (OPENSSL_CONF=%s)\n",
			getenv("OPENSSL_CONF") ? getenv("OPENSSL_CONF") : "unset");
		ERR_print_errors_fp(stderr);
		return 2;
	}
	printf("# gostbench: %s, %.3g s per operation\n", OpenSSL_version(OPENSSL_VERSION), secs);
	fflush(stdout);
	if (check)
		return 0;

	for (size_t k = 0; k < NOPS; k++)
		if (selected(ops[k].name, argc, argv))
			failed += measure(&ops[k], secs);
	/* Named operations the table lacks (e.g. added to benchcmp first). */
	for (i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]), k;

		for (k = 0; k < NOPS && strcmp(ops[k].name, argv[i]) != 0; k++)
			;
		if (k == NOPS && n > 0 && argv[i][n - 1] != '/')
			printf("op=%s unit=- value=- note=unsupported: not in the harness (no row in gostbench.c ops[])\n", argv[i]);
	}
	return failed > 0 ? 1 : 0;
}
