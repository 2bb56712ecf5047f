/* test_prot.c -- protocol streams: buffering, timeouts, errors, TLS and
 * deflate layers.  Peers run in forked children over socketpairs. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <zlib.h>

#include "lib/prot.h"
#include "lib/prot_deflate.h"
#include "lib/prot_tls.h"
#include "lib/test/unit.h"

/* --- helpers --- */

static void pair(int sv[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) abort();
}

/* Run fn(fd, arg) in a child that owns `fd`; the parent's copy is closed. */
static pid_t spawn(int (*fn)(int fd, void *arg), int fd, int parent_fd,
                   void *arg)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) abort();
    if (pid == 0) {
        close(parent_fd);
        alarm(60);
        _exit(fn(fd, arg));
    }
    close(fd);
    return pid;
}

/* The child's exit status (0 = all its checks passed). */
static int reap(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static unsigned char pattern(size_t i)
{
    return (unsigned char)(i * 31 + (i >> 13));
}

static int read_all_raw(int fd, char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n <= 0) return -1;
        got += n;
    }
    return 0;
}

static int write_raw(int fd, const char *s)
{
    size_t len = strlen(s);
    return write(fd, s, len) == (ssize_t)len ? 0 : -1;
}

/* Send `total` pattern bytes in chunks of varying size (some bigger than
 * the stream's buffer, to take the unbuffered path). */
static int send_pattern(struct protstream *p, size_t total)
{
    static const size_t sizes[] = { 1, 7, 100, 4096, 16383, 16384, 50000, 3 };
    char *chunk = malloc(50000);
    size_t sent = 0;
    int k = 0, r = 0;
    while (sent < total && !r) {
        size_t n = sizes[k++ % 8];
        if (n > total - sent) n = total - sent;
        for (size_t i = 0; i < n; i++) chunk[i] = (char)pattern(sent + i);
        r = n == 1 ? prot_putc(chunk[0], p) : prot_write(p, chunk, n);
        sent += n;
    }
    free(chunk);
    return r || prot_flush(p) ? -1 : 0;
}

/* Receive and verify `total` pattern bytes, mixing read sizes. */
static int recv_pattern(struct protstream *p, size_t total)
{
    static const size_t sizes[] = { 1, 9000, 3, 16384, 70000, 512 };
    char *chunk = malloc(70000);
    size_t got = 0;
    int k = 0, r = 0;
    while (got < total && !r) {
        size_t want = sizes[k++ % 6];
        if (want > total - got) want = total - got;
        size_t n;
        if (want == 1) {
            int c = prot_getc(p);
            n = c == EOF ? 0 : 1;
            chunk[0] = (char)c;
        } else {
            n = prot_read(p, chunk, want);
        }
        if (!n) r = -1;
        for (size_t i = 0; i < n && !r; i++)
            if ((unsigned char)chunk[i] != pattern(got + i)) r = -2;
        got += n;
    }
    free(chunk);
    return r;
}

/* --- TLS material, made once per run --- */

static char tls_dir[64];
static char cert_path[128], key_path[128], other_key_path[128];

static int write_key(const char *path, EVP_PKEY *key)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    int ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    return ok ? 0 : -1;
}

static int make_tls_files(void)
{
    if (tls_dir[0]) return 0;
    strcpy(tls_dir, "/tmp/test_prot.XXXXXX");
    if (!mkdtemp(tls_dir)) return -1;
    snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", tls_dir);
    snprintf(key_path, sizeof(key_path), "%s/key.pem", tls_dir);
    snprintf(other_key_path, sizeof(other_key_path), "%s/other.pem", tls_dir);

    EVP_PKEY *key = EVP_EC_gen("P-256");
    EVP_PKEY *other = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)"localhost", -1, -1, 0);
    X509_set_issuer_name(x, name);
    int r = X509_sign(x, key, EVP_sha256()) > 0 ? 0 : -1;

    FILE *f = fopen(cert_path, "w");
    if (!f || !PEM_write_X509(f, x)) r = -1;
    if (f) fclose(f);
    if (write_key(key_path, key) < 0 || write_key(other_key_path, other) < 0)
        r = -1;
    X509_free(x);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
    return r;
}

static void remove_tls_files(void)
{
    if (!tls_dir[0]) return;
    unlink(cert_path);
    unlink(key_path);
    unlink(other_key_path);
    rmdir(tls_dir);
}

static SSL_CTX *server_ctx(void)
{
    struct tls_settings st = { 0 };
    struct buf err = BUF_INITIALIZER;
    if (make_tls_files() < 0) return NULL;
    st.cert_file = cert_path;
    st.key_file = key_path;
    st.versions = "tls1_2 tls1_3";
    SSL_CTX *ctx = tls_server_context(&st, &err);
    if (!ctx) printf("# tls_server_context: %s\n", buf_cstring(&err));
    buf_free(&err);
    return ctx;
}

static SSL_CTX *client_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    return ctx;
}

/* --- plain streams --- */

static void test_buffered_io(void)
{
    int sv[2];
    char buf[64];
    pair(sv);
    struct protstream *p = prot_new(sv[0], sv[0]);

    /* output stays buffered until flushed */
    CHECK_INTEQ(prot_printf(p, "%s %d\r\n", "* OK", 42), 0);
    CHECK_INTEQ(prot_putc('x', p), 0);
    CHECK_INTEQ(prot_puts(p, "yz"), 0);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    CHECK_INTEQ(read(sv[1], buf, sizeof(buf)), -1);
    CHECK_INTEQ(prot_flush(p), 0);
    ssize_t n = read(sv[1], buf, sizeof(buf));
    CHECK_INTEQ(n, 12);
    CHECK(n == 12 && !memcmp(buf, "* OK 42\r\nxyz", 12));
    CHECK_INTEQ(prot_bytes_out(p), 12);

    /* input: getc, ungetc, read, fgets */
    CHECK_INTEQ(write_raw(sv[1], "abc\r\nline two\nrest"), 0);
    CHECK_INTEQ(prot_getc(p), 'a');
    prot_ungetc('a', p);
    CHECK_INTEQ(prot_getc(p), 'a');
    CHECK_INTEQ(prot_read(p, buf, 2), 2);
    CHECK(!memcmp(buf, "bc", 2));
    CHECK_STREQ(prot_fgets(buf, sizeof(buf), p), "\r\n");
    CHECK_STREQ(prot_fgets(buf, sizeof(buf), p), "line two\n");
    CHECK_INTEQ(prot_input_pending(p), 4);
    /* a short buffer cuts the line at size-1 */
    CHECK_STREQ(prot_fgets(buf, 3, p), "re");
    close(sv[1]);
    CHECK_STREQ(prot_fgets(buf, sizeof(buf), p), "st");
    CHECK(prot_fgets(buf, sizeof(buf), p) == NULL);
    CHECK(prot_eof(p));
    CHECK_STREQ(prot_error(p), "EOF");
    CHECK_INTEQ(prot_getc(p), EOF);
    CHECK_INTEQ(prot_bytes_in(p), 18);
    prot_free(&p);
    CHECK(p == NULL);
    close(sv[0]);
}

/* The stream must push its output out before it blocks for input. */
static int answer_after_greeting(int fd, void *arg)
{
    char buf[6];
    (void)arg;
    if (read_all_raw(fd, buf, 6) < 0 || memcmp(buf, "hello\n", 6)) return 1;
    return write_raw(fd, "x") < 0 ? 2 : 0;
}

static void test_flush_before_read(void)
{
    int sv[2];
    pair(sv);
    pid_t pid = spawn(answer_after_greeting, sv[1], sv[0], NULL);
    struct protstream *p = prot_new(sv[0], sv[0]);
    prot_settimeout(p, 10);
    prot_puts(p, "hello\n");
    CHECK_INTEQ(prot_getc(p), 'x');
    CHECK(prot_error(p) == NULL);
    CHECK_INTEQ(reap(pid), 0);
    prot_free(&p);
    close(sv[0]);
}

static int echo_pattern_child(int fd, void *arg)
{
    size_t total = *(size_t *)arg;
    struct protstream *p = prot_new(fd, fd);
    prot_settimeout(p, 30);
    int r = recv_pattern(p, total) < 0 ? 1 : send_pattern(p, total) < 0 ? 2 : 0;
    prot_free(&p);
    return r;
}

static void test_large_transfer(void)
{
    int sv[2];
    size_t total = 6 * 1024 * 1024 + 123;
    pair(sv);
    pid_t pid = spawn(echo_pattern_child, sv[1], sv[0], &total);
    struct protstream *p = prot_new(sv[0], sv[0]);
    prot_settimeout(p, 30);
    CHECK_INTEQ(send_pattern(p, total), 0);
    CHECK_INTEQ(recv_pattern(p, total), 0);
    CHECK_INTEQ(prot_bytes_out(p), total);
    CHECK_INTEQ(prot_bytes_in(p), total);
    CHECK_INTEQ(reap(pid), 0);
    prot_free(&p);
    close(sv[0]);
}

/* Separate input and output descriptors (stdin/stdout style). */
static void test_pipes(void)
{
    int in[2], out[2];
    char buf[16];
    if (pipe(in) < 0 || pipe(out) < 0) abort();
    struct protstream *p = prot_new(in[0], out[1]);
    CHECK_INTEQ(write_raw(in[1], "ping\n"), 0);
    CHECK_STREQ(prot_fgets(buf, sizeof(buf), p), "ping\n");
    prot_puts(p, "pong\n");
    CHECK_INTEQ(prot_flush(p), 0);
    CHECK_INTEQ(read(out[0], buf, sizeof(buf)), 5);
    CHECK(!memcmp(buf, "pong\n", 5));
    CHECK_INTEQ(prot_rfd(p), in[0]);
    CHECK_INTEQ(prot_wfd(p), out[1]);

    /* the reader goes away: an error, not a SIGPIPE death */
    close(out[0]);
    signal(SIGPIPE, SIG_DFL);
    prot_puts(p, "lost\n");
    CHECK_INTEQ(prot_flush(p), -1);
    CHECK(prot_error(p) && strstr(prot_error(p), "Broken pipe"));
    /* sticky: everything fails cheaply from now on */
    CHECK_INTEQ(prot_puts(p, "more"), -1);
    CHECK_INTEQ(prot_getc(p), EOF);
    CHECK_INTEQ(prot_read(p, buf, 4), 0);
    CHECK_INTEQ(prot_wait_input(p, 0), -1);
    prot_free(&p);
    close(in[0]);
    close(in[1]);
    close(out[1]);
}

static void test_socket_peer_gone(void)
{
    int sv[2];
    pair(sv);
    struct protstream *p = prot_new(sv[0], sv[0]);
    close(sv[1]);
    signal(SIGPIPE, SIG_DFL);
    /* EOF on input alone still allows output ... */
    CHECK_INTEQ(prot_getc(p), EOF);
    CHECK_STREQ(prot_error(p), "EOF");
    /* ... which then fails without killing us */
    CHECK_INTEQ(prot_puts(p, "* BYE\r\n"), 0);
    CHECK_INTEQ(prot_flush(p), -1);
    CHECK(prot_error(p) && strstr(prot_error(p), "write"));
    prot_free(&p);
    close(sv[0]);
}

static void test_timeout(void)
{
    int sv[2];
    pair(sv);
    struct protstream *p = prot_new(sv[0], sv[0]);
    prot_settimeout(p, 1);
    time_t before = time(NULL);
    CHECK_INTEQ(prot_getc(p), EOF);
    time_t took = time(NULL) - before;
    CHECK(took >= 0 && took <= 3);
    CHECK_STREQ(prot_error(p), "timeout");
    CHECK(prot_eof(p));
    /* data arriving later is not read: the error is sticky */
    CHECK_INTEQ(write_raw(sv[1], "late\n"), 0);
    CHECK_INTEQ(prot_getc(p), EOF);
    CHECK_INTEQ(prot_printf(p, "x"), -1);
    CHECK_INTEQ(prot_flush(p), -1);
    prot_free(&p);
    close(sv[0]);
    close(sv[1]);
}

static void test_wait_input(void)
{
    int sv[2];
    char buf[8];
    pair(sv);
    struct protstream *p = prot_new(sv[0], sv[0]);
    CHECK_INTEQ(prot_wait_input(p, 50), 0);
    /* the wait flushes output first (IDLE's "+ idling") */
    prot_puts(p, "+ idling\r\n");
    CHECK_INTEQ(prot_wait_input(p, 10), 0);
    CHECK_INTEQ(read(sv[1], buf, 8), 8);
    CHECK_INTEQ(write_raw(sv[1], "DONE\r\n"), 0);
    CHECK_INTEQ(prot_wait_input(p, 1000), 1);
    CHECK_INTEQ(prot_getc(p), 'D');
    CHECK_INTEQ(prot_input_pending(p), 5);
    CHECK_INTEQ(prot_wait_input(p, 0), 1);
    prot_free(&p);
    close(sv[0]);
    close(sv[1]);
}

/* --- TLS --- */

/* A plain OpenSSL client: handshake, a line each way, a bulk transfer. */
static int openssl_client(int fd, void *arg)
{
    size_t total = *(size_t *)arg;
    SSL_CTX *ctx = client_ctx();
    SSL *ssl = SSL_new(ctx);
    char buf[16];
    size_t n;
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) return 1;
    if (SSL_write(ssl, "ping\r\n", 6) != 6) return 2;
    if (!SSL_read_ex(ssl, buf, 6, &n) || n != 6 || memcmp(buf, "pong\r\n", 6))
        return 3;
    /* echo `total` bytes back as they come */
    char *data = malloc(65536);
    size_t done = 0;
    while (done < total) {
        if (!SSL_read_ex(ssl, data, 65536, &n)) return 4;
        if (SSL_write(ssl, data, (int)n) != (int)n) return 5;
        done += n;
    }
    free(data);
    SSL_shutdown(ssl);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return 0;
}

static void test_tls_with_openssl_client(void)
{
    int sv[2];
    char line[16];
    struct buf err = BUF_INITIALIZER;
    size_t total = 3 * 1024 * 1024 + 5;
    SSL_CTX *ctx = server_ctx();
    CHECK(ctx != NULL);
    if (!ctx) return;
    pair(sv);
    pid_t pid = spawn(openssl_client, sv[1], sv[0], &total);
    struct protstream *p = prot_new(sv[0], sv[0]);
    prot_settimeout(p, 30);

    CHECK(prot_tls_description(p) == NULL);
    CHECK_INTEQ(prot_starttls(p, ctx, &err), 0);
    CHECK_STREQ(buf_cstring(&err), "");
    const char *desc = prot_tls_description(p);
    CHECK(desc && !strncmp(desc, "TLSv1.3 TLS_", 12));
    CHECK(prot_tls_ssf(p) >= 128);
    CHECK(prot_tls_ssl(p) != NULL);
    CHECK_STREQ(prot_fgets(line, sizeof(line), p), "ping\r\n");
    prot_puts(p, "pong\r\n");

    /* the client echoes as it reads: send in slices small enough for the
     * socket buffers, reading each echo back before the next */
    size_t sent = 0, slice = 32 * 1024;
    char *out = malloc(slice), *back = malloc(slice);
    int bad = 0;
    while (sent < total && !bad) {
        size_t n = total - sent < slice ? total - sent : slice, got = 0;
        for (size_t i = 0; i < n; i++) out[i] = (char)pattern(sent + i);
        if (prot_write(p, out, n) || prot_flush(p)) bad = 1;
        while (!bad && got < n) {
            size_t k = prot_read(p, back + got, n - got);
            if (!k) bad = 2;
            got += k;
        }
        if (!bad && memcmp(out, back, n)) bad = 3;
        sent += n;
    }
    CHECK_INTEQ(bad, 0);
    free(out);
    free(back);
    CHECK(prot_error(p) == NULL);
    CHECK_INTEQ(reap(pid), 0);
    prot_free(&p);
    close(sv[0]);
    SSL_CTX_free(ctx);
    buf_free(&err);
}

/* Plaintext pipelined after STARTTLS must be thrown away, not read as if
 * it had arrived encrypted (the STARTTLS command injection attack). */
static int injecting_client(int fd, void *arg)
{
    char buf[64];
    size_t n;
    (void)arg;
    if (write_raw(fd, "a STARTTLS\r\nb INJECTED\r\n") < 0) return 1;
    if (read_all_raw(fd, buf, 6) < 0 || memcmp(buf, "a OK\r\n", 6)) return 2;
    SSL_CTX *ctx = client_ctx();
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) return 3;
    if (SSL_write(ssl, "c REAL\r\n", 8) != 8) return 4;
    if (!SSL_read_ex(ssl, buf, 5, &n) || memcmp(buf, "c OK\n", 5)) return 5;
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return 0;
}

static void test_starttls_discards_plaintext(void)
{
    int sv[2];
    char line[64];
    struct buf err = BUF_INITIALIZER;
    SSL_CTX *ctx = server_ctx();
    if (!ctx) return;
    pair(sv);
    pid_t pid = spawn(injecting_client, sv[1], sv[0], NULL);
    struct protstream *p = prot_new(sv[0], sv[0]);
    prot_settimeout(p, 20);
    /* let both lines arrive so they sit in our buffer together */
    usleep(100 * 1000);
    CHECK_STREQ(prot_fgets(line, sizeof(line), p), "a STARTTLS\r\n");
    CHECK(prot_input_pending(p) > 0);
    prot_puts(p, "a OK\r\n");
    CHECK_INTEQ(prot_starttls(p, ctx, &err), 0);
    CHECK_STREQ(prot_fgets(line, sizeof(line), p), "c REAL\r\n");
    prot_puts(p, "c OK\n");
    CHECK_INTEQ(prot_flush(p), 0);
    CHECK_INTEQ(reap(pid), 0);
    prot_free(&p);
    close(sv[0]);
    SSL_CTX_free(ctx);
    buf_free(&err);
}

static int plaintext_client(int fd, void *arg)
{
    char buf[256];
    (void)arg;
    write_raw(fd, "this is not a TLS ClientHello at all, sorry\r\n");
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    return 0;
}

static void test_tls_handshake_failure(void)
{
    int sv[2];
    struct buf err = BUF_INITIALIZER;
    SSL_CTX *ctx = server_ctx();
    if (!ctx) return;
    pair(sv);
    pid_t pid = spawn(plaintext_client, sv[1], sv[0], NULL);
    struct protstream *p = prot_new(sv[0], sv[0]);
    prot_settimeout(p, 10);
    CHECK_INTEQ(prot_starttls(p, ctx, &err), -1);
    CHECK(!strncmp(buf_cstring(&err), "TLS handshake failed: ", 22));
    CHECK(prot_error(p) != NULL);
    CHECK_INTEQ(prot_puts(p, "x"), -1);
    CHECK(prot_tls_description(p) == NULL);
    prot_free(&p);
    close(sv[0]);
    CHECK_INTEQ(reap(pid), 0);

    /* a silent client runs into the timeout */
    pair(sv);
    p = prot_new(sv[0], sv[0]);
    prot_settimeout(p, 1);
    buf_reset(&err);
    CHECK_INTEQ(prot_starttls(p, ctx, &err), -1);
    CHECK_STREQ(buf_cstring(&err), "TLS handshake failed: timeout");
    prot_free(&p);
    close(sv[0]);
    close(sv[1]);
    SSL_CTX_free(ctx);
    buf_free(&err);
}

static void test_tls_context_errors(void)
{
    struct tls_settings st = { 0 };
    struct buf err = BUF_INITIALIZER;
    SSL_CTX *ctx;
    if (make_tls_files() < 0) {
        CHECK(0);
        return;
    }

    st.cert_file = "/nonexistent/cert.pem";
    CHECK(tls_server_context(&st, &err) == NULL);
    CHECK_STREQ(buf_cstring(&err),
                "cannot read certificate /nonexistent/cert.pem: "
                "No such file or directory");

    buf_reset(&err);
    st.cert_file = NULL;
    CHECK(tls_server_context(&st, &err) == NULL);
    CHECK_STREQ(buf_cstring(&err),
                "no server certificate configured (tls_server_cert)");

    /* the certificate file holds no key */
    buf_reset(&err);
    st.cert_file = cert_path;
    CHECK(tls_server_context(&st, &err) == NULL);
    CHECK(!strncmp(buf_cstring(&err), "cannot load private key ", 24));

    buf_reset(&err);
    st.key_file = other_key_path;
    CHECK(tls_server_context(&st, &err) == NULL);
    CHECK(strstr(buf_cstring(&err), "does not match certificate") != NULL);

    buf_reset(&err);
    st.key_file = key_path;
    st.versions = "tls1_2 ssl3";
    CHECK(tls_server_context(&st, &err) == NULL);
    CHECK(!strncmp(buf_cstring(&err), "unknown TLS version \"ssl3\"", 26));

    buf_reset(&err);
    st.versions = " ";
    CHECK(tls_server_context(&st, &err) == NULL);
    CHECK(strstr(buf_cstring(&err), "enables no TLS version") != NULL);

    buf_reset(&err);
    st.versions = "tls1_2";
    st.ciphers = "NO-SUCH-CIPHER";
    CHECK(tls_server_context(&st, &err) == NULL);
    CHECK(!strncmp(buf_cstring(&err), "invalid tls_ciphers", 19));

    buf_reset(&err);
    st.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
    st.prefer_server_ciphers = 1;
    st.ca_file = "/nonexistent/ca.pem";
    CHECK(tls_server_context(&st, &err) == NULL);
    CHECK(!strncmp(buf_cstring(&err), "cannot read client CA file", 26));

    buf_reset(&err);
    st.ca_file = cert_path;
    ctx = tls_server_context(&st, &err);
    CHECK(ctx != NULL);
    if (ctx) {
        CHECK_INTEQ(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
        CHECK_INTEQ(SSL_CTX_get_max_proto_version(ctx), TLS1_2_VERSION);
        CHECK(SSL_CTX_get_options(ctx) & SSL_OP_CIPHER_SERVER_PREFERENCE);
        CHECK(SSL_CTX_get_verify_mode(ctx) & SSL_VERIFY_PEER);
        SSL_CTX_free(ctx);
    }

    /* a gap in the list disables the version inside the range */
    buf_reset(&err);
    st.ca_file = NULL;
    st.ciphers = NULL;
    st.versions = "tls1_0 tls1_2";
    ctx = tls_server_context(&st, &err);
    CHECK(ctx != NULL);
    if (ctx) {
        CHECK_INTEQ(SSL_CTX_get_min_proto_version(ctx), TLS1_VERSION);
        CHECK(SSL_CTX_get_options(ctx) & SSL_OP_NO_TLSv1_1);
        CHECK(!(SSL_CTX_get_options(ctx) & SSL_OP_NO_TLSv1_2));
        SSL_CTX_free(ctx);
    }
    buf_free(&err);
}

/* --- deflate --- */

static void test_deflate_wire_format(void)
{
    int sv[2];
    char raw[256], text[256], line[64];
    struct buf err = BUF_INITIALIZER;
    pair(sv);
    struct protstream *p = prot_new(sv[0], sv[0]);
    CHECK_INTEQ(prot_compress_start(p, -1, &err), 0);
    CHECK(prot_compress_active(p));
    CHECK_INTEQ(prot_compress_start(p, -1, &err), -1);
    CHECK_STREQ(buf_cstring(&err), "compression is already active");

    /* our output: raw deflate, ending in a sync flush marker */
    prot_puts(p, "* OK compressed\r\n");
    CHECK_INTEQ(prot_flush(p), 0);
    ssize_t n = read(sv[1], raw, sizeof(raw));
    CHECK(n > 4);
    CHECK(n > 4 && !memcmp(raw + n - 4, "\x00\x00\xff\xff", 4));
    z_stream zi = { 0 };
    inflateInit2(&zi, -15);
    zi.next_in = (unsigned char *)raw;
    zi.avail_in = (unsigned)n;
    zi.next_out = (unsigned char *)text;
    zi.avail_out = sizeof(text);
    CHECK_INTEQ(inflate(&zi, Z_SYNC_FLUSH), Z_OK);
    CHECK_INTEQ(sizeof(text) - zi.avail_out, 17);
    CHECK(!memcmp(text, "* OK compressed\r\n", 17));
    inflateEnd(&zi);

    /* our input: what a peer compresses */
    z_stream zo = { 0 };
    deflateInit2(&zo, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    zo.next_in = (unsigned char *)"a NOOP\r\nb LOGOUT\r\n";
    zo.avail_in = 18;
    zo.next_out = (unsigned char *)raw;
    zo.avail_out = sizeof(raw);
    CHECK_INTEQ(deflate(&zo, Z_SYNC_FLUSH), Z_OK);
    CHECK_INTEQ(write(sv[1], raw, sizeof(raw) - zo.avail_out),
                (ssize_t)(sizeof(raw) - zo.avail_out));
    deflateEnd(&zo);
    CHECK_STREQ(prot_fgets(line, sizeof(line), p), "a NOOP\r\n");
    CHECK_STREQ(prot_fgets(line, sizeof(line), p), "b LOGOUT\r\n");

    /* garbage is a decompression error */
    CHECK_INTEQ(write(sv[1], "\xff\xff\xff\xff", 4), 4);
    CHECK_INTEQ(prot_getc(p), EOF);
    CHECK(prot_error(p) && !strncmp(prot_error(p), "decompression failed", 20));
    prot_free(&p);
    close(sv[0]);
    close(sv[1]);
    buf_free(&err);
}

/* Stacked layers in a given order, set up the same way on both sides:
 * "T" = TLS, "D" = deflate. */
struct stack_arg {
    const char *order;
    size_t total;
};

static int push_layers(struct protstream *p, const char *order, int server,
                       SSL_CTX *ctx)
{
    struct buf err = BUF_INITIALIZER;
    int r = 0;
    for (const char *o = order; *o && !r; o++) {
        if (*o == 'D')
            r = prot_compress_start(p, 6, &err);
        else if (server)
            r = prot_starttls(p, ctx, &err);
        else
            r = prot_starttls_client(p, ctx, "localhost", &err);
    }
    if (r) printf("# %s: %s\n", server ? "server" : "client", buf_cstring(&err));
    buf_free(&err);
    return r;
}

static int stacked_client(int fd, void *arg)
{
    struct stack_arg *a = arg;
    SSL_CTX *ctx = client_ctx();
    struct protstream *p = prot_new(fd, fd);
    char line[64];
    int r = 0;
    prot_settimeout(p, 30);
    if (push_layers(p, a->order, 0, ctx)) r = 1;
    else if (!prot_fgets(line, sizeof(line), p) || strcmp(line, "hello\r\n")) r = 2;
    else if (prot_puts(p, "welcome\r\n") || prot_flush(p)) r = 3;
    else if (recv_pattern(p, a->total)) r = 4;
    else if (send_pattern(p, a->total)) r = 5;
    prot_free(&p);
    SSL_CTX_free(ctx);
    return r;
}

static void run_stacked(const char *order, size_t total)
{
    int sv[2];
    char line[64];
    struct stack_arg a = { order, total };
    SSL_CTX *ctx = server_ctx();
    if (!ctx) {
        CHECK(0);
        return;
    }
    pair(sv);
    pid_t pid = spawn(stacked_client, sv[1], sv[0], &a);
    struct protstream *p = prot_new(sv[0], sv[0]);
    prot_settimeout(p, 30);
    CHECK_INTEQ(push_layers(p, order, 1, ctx), 0);
    CHECK_INTEQ(prot_compress_active(p), strchr(order, 'D') != NULL);
    CHECK_INTEQ(prot_tls_description(p) != NULL, strchr(order, 'T') != NULL);
    prot_puts(p, "hello\r\n");
    CHECK_STREQ(prot_fgets(line, sizeof(line), p), "welcome\r\n");
    CHECK_INTEQ(send_pattern(p, total), 0);
    CHECK_INTEQ(recv_pattern(p, total), 0);
    CHECK(prot_error(p) == NULL);
    CHECK_INTEQ(reap(pid), 0);
    prot_free(&p);
    close(sv[0]);
    SSL_CTX_free(ctx);
}

static void test_deflate_round_trip(void)
{
    run_stacked("D", 5 * 1024 * 1024);
}

static void test_tls_then_deflate(void)
{
    run_stacked("TD", 3 * 1024 * 1024);
}

static void test_deflate_then_tls(void)
{
    run_stacked("DT", 3 * 1024 * 1024);
}

static void test_tls_client_and_server(void)
{
    run_stacked("T", 2 * 1024 * 1024);
    remove_tls_files();
}

UNIT_TESTS(UNIT_T(test_buffered_io), UNIT_T(test_flush_before_read),
           UNIT_T(test_large_transfer), UNIT_T(test_pipes),
           UNIT_T(test_socket_peer_gone), UNIT_T(test_timeout),
           UNIT_T(test_wait_input), UNIT_T(test_tls_with_openssl_client),
           UNIT_T(test_starttls_discards_plaintext),
           UNIT_T(test_tls_handshake_failure), UNIT_T(test_tls_context_errors),
           UNIT_T(test_deflate_wire_format), UNIT_T(test_deflate_round_trip),
           UNIT_T(test_tls_then_deflate), UNIT_T(test_deflate_then_tls),
           UNIT_T(test_tls_client_and_server))
