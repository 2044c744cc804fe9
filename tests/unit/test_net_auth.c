/* The shared-secret handshake (net/auth.h) as a pure state machine, and secret files: both
 * ends authenticate each other with the same secret, a wrong secret or tampered proof fails
 * on the side that checks it, a message sent without authenticating names the cure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "net/auth.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct net_secret secret(const char *s)
{
    struct net_secret k = {.len = strlen(s)};
    memcpy(k.key, s, k.len);
    return k;
}

/* Runs the three frames between an acceptor and a dialer; returns the dialer's last rc. */
static int handshake(const struct net_secret *a_key, const struct net_secret *d_key, int tamper, const char **why)
{
    struct net_auth a, d;
    struct net_auth_frame f, g;
    assert_int_equal(net_auth_begin(&a, a_key, NET_AUTH_ACCEPTOR, &f), 0);
    assert_int_equal(f.type, NET_AUTH_CHALLENGE);
    assert_int_equal(net_auth_begin(&d, d_key, NET_AUTH_DIALER, &g), 0);
    assert_int_equal(g.type, 0); /* a dialer waits for the challenge */
    assert_int_equal(net_auth_receive(&d, f.type, f.body, f.len, &g, why), 0);
    assert_int_equal(g.type, NET_AUTH_RESPONSE);
    int rc = net_auth_receive(&a, g.type, g.body, g.len, &f, why);
    if (rc != 1)
        return -2; /* the acceptor refused */
    assert_int_equal(f.type, NET_AUTH_ACCEPT);
    if (tamper)
        f.body[0] ^= 1;
    return net_auth_receive(&d, f.type, f.body, f.len, &g, why);
}

static void test_same_secret_authenticates_both_ends(void **state)
{
    (void)state;
    struct net_secret k = secret("correct horse battery staple");
    const char *why = NULL;
    assert_int_equal(handshake(&k, &k, 0, &why), 1);
}

static void test_wrong_secret_or_proof_fails(void **state)
{
    (void)state;
    struct net_secret k = secret("correct horse battery staple"), other = secret("correct horse battery stapler");
    const char *why = NULL;
    assert_int_equal(handshake(&k, &other, 0, &why), -2);
    assert_non_null(strstr(why, "does not hold this secret"));
    why = NULL;
    assert_int_equal(handshake(&k, &k, 1, &why), -1); /* a forged acceptor proof */
    assert_non_null(strstr(why, "does not hold this secret"));
}

static void test_messages_before_authentication_refused(void **state)
{
    (void)state;
    struct net_secret k = secret("correct horse battery staple");
    struct net_auth a, d;
    struct net_auth_frame f;
    const char *why = NULL;
    net_auth_begin(&a, &k, NET_AUTH_ACCEPTOR, &f);
    assert_int_equal(net_auth_receive(&a, 2, NULL, 0, &f, &why), -1); /* an inference */
    assert_non_null(strstr(why, "CLOCKWORK_SECRET_FILE"));
    net_auth_begin(&d, &k, NET_AUTH_DIALER, &f);
    assert_int_equal(net_auth_receive(&d, 106, NULL, 0, &f, &why), -1); /* a result, no challenge */
    assert_non_null(strstr(why, "CLOCKWORK_SECRET_FILE"));
    net_auth_begin(&d, &k, NET_AUTH_DIALER, &f);
    assert_int_equal(net_auth_receive(&d, NET_AUTH_CHALLENGE, (const uint8_t *)"short", 5, &f, &why), -1);
    net_auth_begin(&d, &k, NET_AUTH_DIALER, &f);
    assert_int_equal(net_auth_receive(&d, NET_AUTH_ACCEPT, NULL, 0, &f, &why), -1);
    assert_non_null(strstr(why, "out of order"));
}

static void write_file(const char *path, const char *text, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(text, 1, n, f);
    fclose(f);
    chmod(path, 0600);
}

static void test_secret_files(void **state)
{
    (void)state;
    char path[] = "/tmp/cw-secret-XXXXXX", err[256];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    static struct net_secret s;
    write_file(path, "0123456789abcdef\r\n \n", 20);
    assert_int_equal(net_secret_load(&s, path, err, sizeof err), 0);
    assert_int_equal(s.len, 16); /* trailing whitespace is not part of it */
    write_file(path, "too short\n", 10);
    assert_int_equal(net_secret_load(&s, path, err, sizeof err), -1);
    assert_non_null(strstr(err, "shorter than 16"));
    char *big = malloc(NET_SECRET_MAX + 2);
    memset(big, 'x', NET_SECRET_MAX + 1);
    write_file(path, big, NET_SECRET_MAX + 1);
    free(big);
    assert_int_equal(net_secret_load(&s, path, err, sizeof err), -1);
    assert_non_null(strstr(err, "longer than"));
    unlink(path);
    assert_int_equal(net_secret_load(&s, path, err, sizeof err), -1);
    assert_non_null(strstr(err, path));
    struct net_secret *env = (struct net_secret *)1;
    unsetenv("CLOCKWORK_SECRET_FILE");
    assert_int_equal(net_secret_from_env(&env, err, sizeof err), 0);
    assert_null(env);
    setenv("CLOCKWORK_SECRET_FILE", path, 1);
    assert_int_equal(net_secret_from_env(&env, err, sizeof err), -1);
    unsetenv("CLOCKWORK_SECRET_FILE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_secret_authenticates_both_ends),
        cmocka_unit_test(test_wrong_secret_or_proof_fails),
        cmocka_unit_test(test_messages_before_authentication_refused),
        cmocka_unit_test(test_secret_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
