/* The handshake's three frames and their HMACs (OpenSSL's libcrypto: HMAC-SHA256, a
 * constant-time compare, the system's randomness). */
#include "auth.h"
#include "common/log.h"
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { WAIT_CHALLENGE, WAIT_RESPONSE, WAIT_ACCEPT, DONE };

static int read_secret_file(struct net_secret *s, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read the secret file %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
        log_warn("the secret file %s can be read by other users (chmod 600 it)", path);
    s->len = fread(s->key, 1, sizeof s->key, f);
    int more = fgetc(f) != EOF;
    fclose(f);
    if (more) {
        snprintf(err, errlen, "the secret file %s is longer than %d bytes", path, NET_SECRET_MAX);
        return -1;
    }
    return 0;
}

int net_secret_load(struct net_secret *s, const char *path, char *err, size_t errlen)
{
    if (read_secret_file(s, path, err, errlen) != 0)
        return -1;
    while (s->len > 0 && strchr(" \t\r\n", s->key[s->len - 1]))
        s->len--;
    if (s->len < NET_SECRET_MIN) {
        snprintf(err, errlen, "the secret in %s is shorter than %d bytes", path, NET_SECRET_MIN);
        return -1;
    }
    return 0;
}

int net_secret_from_env(struct net_secret **out, char *err, size_t errlen)
{
    *out = NULL;
    const char *path = getenv("CLOCKWORK_SECRET_FILE");
    if (!path || !*path)
        return 0;
    struct net_secret *s = malloc(sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (net_secret_load(s, path, err, errlen) != 0) {
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

/* HMAC-SHA256(secret, label || nonce_a || nonce_d): the label keeps the two proofs apart. */
static int mac(const struct net_auth *a, const char *label, uint8_t out[NET_AUTH_MAC_LEN])
{
    uint8_t msg[32 + 2 * NET_AUTH_NONCE_LEN]; /* labels are shorter than 32 bytes */
    size_t n = strlen(label);
    memcpy(msg, label, n);
    memcpy(msg + n, a->nonce_a, NET_AUTH_NONCE_LEN);
    memcpy(msg + n + NET_AUTH_NONCE_LEN, a->nonce_d, NET_AUTH_NONCE_LEN);
    unsigned len = 0;
    return HMAC(EVP_sha256(), a->secret->key, (int)a->secret->len, msg, n + 2 * NET_AUTH_NONCE_LEN, out, &len) &&
                   len == NET_AUTH_MAC_LEN
               ? 0
               : -1;
}

int net_auth_begin(struct net_auth *a, const struct net_secret *s, enum net_auth_role role, struct net_auth_frame *out)
{
    memset(a, 0, sizeof *a);
    memset(out, 0, sizeof *out);
    a->secret = s;
    a->role = role;
    a->state = role == NET_AUTH_ACCEPTOR ? WAIT_RESPONSE : WAIT_CHALLENGE;
    if (role == NET_AUTH_DIALER)
        return 0;
    if (RAND_bytes(a->nonce_a, NET_AUTH_NONCE_LEN) != 1)
        return -1;
    out->type = NET_AUTH_CHALLENGE;
    out->len = NET_AUTH_NONCE_LEN;
    memcpy(out->body, a->nonce_a, NET_AUTH_NONCE_LEN);
    return 0;
}

static int on_challenge(struct net_auth *a, const uint8_t *body, size_t len, struct net_auth_frame *out,
                        const char **reason)
{
    if (len != NET_AUTH_NONCE_LEN) {
        *reason = "malformed authentication challenge";
        return -1;
    }
    memcpy(a->nonce_a, body, NET_AUTH_NONCE_LEN);
    if (RAND_bytes(a->nonce_d, NET_AUTH_NONCE_LEN) != 1 || mac(a, "clockwork dialer", out->body + NET_AUTH_NONCE_LEN)) {
        *reason = "cannot compute the authentication response";
        return -1;
    }
    memcpy(out->body, a->nonce_d, NET_AUTH_NONCE_LEN);
    out->type = NET_AUTH_RESPONSE;
    out->len = NET_AUTH_NONCE_LEN + NET_AUTH_MAC_LEN;
    a->state = WAIT_ACCEPT;
    return 0;
}

static int on_response(struct net_auth *a, const uint8_t *body, size_t len, struct net_auth_frame *out,
                       const char **reason)
{
    uint8_t expect[NET_AUTH_MAC_LEN];
    if (len != NET_AUTH_NONCE_LEN + NET_AUTH_MAC_LEN) {
        *reason = "malformed authentication response";
        return -1;
    }
    memcpy(a->nonce_d, body, NET_AUTH_NONCE_LEN);
    if (mac(a, "clockwork dialer", expect) != 0 ||
        CRYPTO_memcmp(expect, body + NET_AUTH_NONCE_LEN, NET_AUTH_MAC_LEN) != 0) {
        *reason = "authentication failed: the peer does not hold this secret";
        return -1;
    }
    if (mac(a, "clockwork acceptor", out->body) != 0) {
        *reason = "cannot compute the authentication proof";
        return -1;
    }
    out->type = NET_AUTH_ACCEPT;
    out->len = NET_AUTH_MAC_LEN;
    a->state = DONE;
    return 1;
}

static int on_accept(struct net_auth *a, const uint8_t *body, size_t len, const char **reason)
{
    uint8_t expect[NET_AUTH_MAC_LEN];
    if (len != NET_AUTH_MAC_LEN || mac(a, "clockwork acceptor", expect) != 0 ||
        CRYPTO_memcmp(expect, body, NET_AUTH_MAC_LEN) != 0) {
        *reason = "authentication failed: the peer does not hold this secret";
        return -1;
    }
    a->state = DONE;
    return 1;
}

static const char *unexpected(const struct net_auth *a, uint64_t type)
{
    if (type == NET_AUTH_CHALLENGE || type == NET_AUTH_RESPONSE || type == NET_AUTH_ACCEPT)
        return "authentication frames out of order";
    return a->role == NET_AUTH_ACCEPTOR
               ? "the peer sent a message without authenticating (is CLOCKWORK_SECRET_FILE set on both sides?)"
               : "the peer sent a message instead of an authentication challenge (is CLOCKWORK_SECRET_FILE set on "
                 "both sides?)";
}

int net_auth_receive(struct net_auth *a, uint64_t type, const uint8_t *body, size_t len, struct net_auth_frame *out,
                     const char **reason)
{
    memset(out, 0, sizeof *out);
    if (a->state == WAIT_CHALLENGE && type == NET_AUTH_CHALLENGE)
        return on_challenge(a, body, len, out, reason);
    if (a->state == WAIT_RESPONSE && type == NET_AUTH_RESPONSE)
        return on_response(a, body, len, out, reason);
    if (a->state == WAIT_ACCEPT && type == NET_AUTH_ACCEPT)
        return on_accept(a, body, len, reason);
    *reason = unexpected(a, type);
    return -1;
}
