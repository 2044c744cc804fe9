/* Optional shared-secret authentication of a connection (CLOCKWORK_SECRET_FILE; threat model
 * in docs/security.md). Without a secret nothing changes: the wire is the original's, byte
 * for byte. With one, before any other message the accepting side sends a challenge nonce,
 * the dialing side answers with its own nonce and an HMAC-SHA256 over both, and the
 * acceptor proves the secret back with an HMAC of its own; both ends then know the other
 * holds the secret. A pure state machine: conn.c carries its frames. */
#ifndef CW_NET_AUTH_H
#define CW_NET_AUTH_H
#include <stddef.h>
#include <stdint.h>

#define NET_SECRET_MIN 16
#define NET_SECRET_MAX 4096
#define NET_AUTH_NONCE_LEN 32
#define NET_AUTH_MAC_LEN 32

/* Frame types of the handshake (header-less frames, nonces and MACs in the body); no
 * Clockwork message uses them. */
enum {
    NET_AUTH_CHALLENGE = 0x43570001, /* acceptor -> dialer: nonce_a */
    NET_AUTH_RESPONSE = 0x43570002,  /* dialer -> acceptor: nonce_d, mac("dialer") */
    NET_AUTH_ACCEPT = 0x43570003,    /* acceptor -> dialer: mac("acceptor") */
};

struct net_secret {
    size_t len;
    uint8_t key[NET_SECRET_MAX];
};

/* Reads a secret file: its bytes without trailing whitespace, at least NET_SECRET_MIN of
 * them. Warns when others may read the file. 0, or -1 with err. */
int net_secret_load(struct net_secret *s, const char *path, char *err, size_t errlen);
/* $CLOCKWORK_SECRET_FILE: 0 with *out NULL when it is unset or empty, 0 with *out a secret
 * the caller frees, or -1 with err when the file is unusable. */
int net_secret_from_env(struct net_secret **out, char *err, size_t errlen);

enum net_auth_role { NET_AUTH_ACCEPTOR, NET_AUTH_DIALER };

struct net_auth {
    const struct net_secret *secret;
    enum net_auth_role role;
    int state; /* what the next frame must be */
    uint8_t nonce_a[NET_AUTH_NONCE_LEN], nonce_d[NET_AUTH_NONCE_LEN];
};

/* A frame for the handshake to send; type 0 = none. */
struct net_auth_frame {
    uint64_t type;
    size_t len;
    uint8_t body[NET_AUTH_NONCE_LEN + NET_AUTH_MAC_LEN];
};

/* Starts a handshake; an acceptor's challenge goes to *out. 0, or -1 without randomness. */
int net_auth_begin(struct net_auth *a, const struct net_secret *s, enum net_auth_role role, struct net_auth_frame *out);
/* One frame received before the handshake finished: 1 authenticated, 0 go on, -1 failed
 * (with a reason naming what went wrong). Whatever is to be sent is in *out. */
int net_auth_receive(struct net_auth *a, uint64_t type, const uint8_t *body, size_t len, struct net_auth_frame *out,
                     const char **reason);

#endif
