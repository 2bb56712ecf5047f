/* imapd.c -- the IMAP server: glue between the service skeleton and the
 * session.  Options beyond the skeleton's: -s for implicit TLS (imaps). */
#include "config.h"

#include <sysexits.h>

#include "imap/imapd/imapd.h"
#include "lib/buf.h"
#include "lib/cyrusdb.h"
#include "lib/log.h"
#include "lib/saslserver.h"
#include "master/service.h"

/* Per process, not per session: what imapd.conf says and how we were
 * started. */
static struct imapd_settings settings;
static int imaps;

static int imapd_option(int opt, const char *arg)
{
    (void)arg;
    if (opt == 's') {
        imaps = 1;
        return 0;
    }
    return -1;
}

static int imapd_init(int argc, char **argv)
{
    struct buf err = BUF_INITIALIZER;

    (void)argc;
    (void)argv;
    if (imapd_settings_init(&settings, &err) < 0) {
        /* Without a usable certificate, plain IMAP still works but imaps
         * cannot. */
        if (imaps)
            fatal(EX_CONFIG, "TLS is not usable: %s", buf_cstring(&err));
        log_error("TLS is not usable, STARTTLS disabled: %s",
                  buf_cstring(&err));
    }
    else if (imaps && !settings.tls_ctx) {
        fatal(EX_CONFIG, "imaps (-s) needs tls_server_cert and tls_server_key");
    }
    buf_free(&err);

    if (saslserver_init("Cyrus") < 0)
        return EX_TEMPFAIL;
    if (imapd_mailbox_process_init(&settings.mbox) < 0)
        return cyrusdb_needs_recovery() ? SERVICE_EX_RECOVER : EX_TEMPFAIL;
    return 0;
}

static void imapd_serve(struct service_conn *conn)
{
    struct imapd_peer peer = {
        .in_fd = conn->in_fd,
        .out_fd = conn->out_fd,
        .peer_addr = conn->peer_addr,
        .peer_port = conn->peer_port,
        .local_addr = conn->local_addr,
        .local_port = conn->local_port,
    };
    struct imapd_session *s = imapd_session_new(&settings, &peer);

    imapd_session_run(s, imaps);
    imapd_session_free(&s);
}

static void imapd_shutdown(void)
{
    saslserver_done();
    imapd_mailbox_process_done();
    imapd_settings_fini(&settings);
}

static const struct service_ops imapd_service_ops = {
    .name = "imapd",
    .optstring = "s",
    .option = imapd_option,
    .init = imapd_init,
    .serve = imapd_serve,
    .shutdown = imapd_shutdown,
};

int main(int argc, char **argv)
{
    return service_main(argc, argv, &imapd_service_ops);
}
