/* lmtpd.c -- the LMTP daemon: glue between the service skeleton, the
 * configuration and the session.
 *
 *   lmtpd [-C imapd.conf] [-U uses] [-T timeout] [-D] [-a]
 *
 * -a treats every connection as preauthenticated by an administrator (for
 * a listener only the MTA can reach).  Connections on a UNIX socket are
 * always preauthenticated: access is controlled by the socket's mode.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "imap/lmtpd/lmtpd.h"
#include "lib/config.h"
#include "lib/cyrusdb.h"
#include "lib/log.h"
#include "lib/prot_tls.h"
#include "lib/saslserver.h"
#include "lib/xmalloc.h"
#include "master/service.h"

static struct lmtpd_settings settings;
static int opt_preauth;

static char *dup_or(const char *s, const char *def)
{
    return xstrdup(s && *s ? s : def);
}

/* "Sent|Trash" lists of autocreate_inbox_folders, as imapd takes them. */
static void split_folders(const char *s, strarray_t *out)
{
    strarray_t *parts;

    if (!s || !*s)
        return;
    parts = strarray_split(s, "|");
    for (int i = 0; i < parts->count; i++) {
        struct buf b = BUF_INITIALIZER;

        buf_setcstr(&b, strarray_nth(parts, i));
        buf_trim(&b);
        if (b.len)
            strarray_append(out, buf_cstring(&b));
        buf_free(&b);
    }
    strarray_free(&parts);
}

int lmtpd_settings_init(struct lmtpd_settings *st, struct buf *err)
{
    const char *s;
    char host[256];

    memset(st, 0, sizeof(*st));
    s = config_getstring(IMAPOPT_SERVERNAME);
    if (!s || !*s) {
        if (gethostname(host, sizeof(host)) < 0)
            strcpy(host, "localhost");
        host[sizeof(host) - 1] = '\0';
        s = host;
    }
    st->servername = xstrdup(s);
    s = config_getstring(IMAPOPT_CONFIGDIRECTORY);
    st->configdir = s ? xstrdup(s) : NULL;
    st->defaultpartition = dup_or(config_getstring(IMAPOPT_DEFAULTPARTITION),
                                  "default");
    st->defaultacl = dup_or(config_getstring(IMAPOPT_DEFAULTACL), "");
    st->postuser = xstrdup(config_getstring(IMAPOPT_POSTUSER) ?
                           config_getstring(IMAPOPT_POSTUSER) : "");
    s = config_getstring(IMAPOPT_LMTP_CATCHALL_MAILBOX);
    st->catchall = s && *s ? xstrdup(s) : NULL;
    s = config_getstring(IMAPOPT_DUPLICATE_DB_PATH);
    if (s && *s)
        st->duplicate_db = xstrdup(s);
    else if (st->configdir)
        st->duplicate_db = strconcat(st->configdir, "/deliver.db",
                                     (char *)NULL);
    s = config_getstring(IMAPOPT_IMPLICIT_OWNER_RIGHTS);
    if (acl_rights_parse(s ? s : "", &st->implicit_owner))
        st->implicit_owner = ACL_LOOKUP | ACL_CREATE | ACL_DELETEMBOX |
                             ACL_ADMIN | ACL_ANNOTATEMSG;
    st->hashimapspool = config_getswitch(IMAPOPT_HASHIMAPSPOOL);

    /* Addresses are resolved as an admin would name mailboxes. */
    st->ns.altnamespace = config_getswitch(IMAPOPT_ALTNAMESPACE);
    st->ns.unixhierarchysep = config_getswitch(IMAPOPT_UNIXHIERARCHYSEP);
    s = config_getenum(IMAPOPT_VIRTDOMAINS);
    st->ns.virtdomains = s && strcmp(s, "off");
    s = config_getstring(IMAPOPT_DEFAULTDOMAIN);
    st->ns.defaultdomain = s && *s ? xstrdup(s) : NULL;
    st->ns.userprefix = dup_or(config_getstring(IMAPOPT_USERPREFIX),
                               "Other Users");
    st->ns.sharedprefix = dup_or(config_getstring(IMAPOPT_SHAREDPREFIX),
                                 "Shared Folders");
    st->ns.altprefix = dup_or(config_getstring(IMAPOPT_ALTPREFIX),
                              "Alt Folders");
    st->ns.isadmin = 1;

    st->maxmessagesize = (uint64_t)config_getint(IMAPOPT_MAXMESSAGESIZE);
    st->downcase_rcpt = config_getswitch(IMAPOPT_LMTP_DOWNCASE_RCPT);
    st->fuzzy_match = config_getswitch(IMAPOPT_LMTP_FUZZY_MAILBOX_MATCH);
    st->overquota_perm = config_getswitch(IMAPOPT_LMTP_OVER_QUOTA_PERM_FAILURE);
    st->strict_quota = config_getswitch(IMAPOPT_LMTP_STRICT_QUOTA);
    st->strict_rfc2821 = config_getswitch(IMAPOPT_LMTP_STRICT_RFC2821);
    st->reject8bit = config_getswitch(IMAPOPT_REJECT8BIT);
    st->munge8bit = config_getswitch(IMAPOPT_MUNGE8BIT);
    st->dupelim = config_getswitch(IMAPOPT_DUPLICATESUPPRESSION);
    st->singleinstance = config_getswitch(IMAPOPT_SINGLEINSTANCESTORE);
    st->autocreate_post = config_getswitch(IMAPOPT_AUTOCREATE_POST);
    st->autocreate_quota = config_getint(IMAPOPT_AUTOCREATE_QUOTA);
    st->autocreate_quota_messages =
        config_getint(IMAPOPT_AUTOCREATE_QUOTA_MESSAGES);
    split_folders(config_getstring(IMAPOPT_AUTOCREATE_INBOX_FOLDERS),
                  &st->autocreate_folders);
    split_folders(config_getstring(IMAPOPT_AUTOCREATE_SUBSCRIBE_FOLDERS),
                  &st->autocreate_subscribe);
    st->soft_noauth = config_getswitch(IMAPOPT_SOFT_NOAUTH);
    st->timeout = 300;

    if (!st->configdir) {
        buf_appendcstr(err, "configdirectory is not set");
        return -1;
    }
    if (config_getstring(IMAPOPT_TLS_SERVER_CERT)) {
        struct tls_settings tls;

        tls_settings_from_config(&tls);
        st->tls_ctx = tls_server_context(&tls, err);
        if (!st->tls_ctx)
            return -1;
    }
    return 0;
}

void lmtpd_settings_fini(struct lmtpd_settings *st)
{
    free(st->servername);
    free(st->configdir);
    free(st->defaultpartition);
    free(st->defaultacl);
    free(st->postuser);
    free(st->catchall);
    free(st->duplicate_db);
    free((char *)st->ns.defaultdomain);
    free((char *)st->ns.userprefix);
    free((char *)st->ns.sharedprefix);
    free((char *)st->ns.altprefix);
    strarray_fini(&st->autocreate_folders);
    strarray_fini(&st->autocreate_subscribe);
    if (st->tls_ctx)
        SSL_CTX_free(st->tls_ctx);
    memset(st, 0, sizeof(*st));
}

static int lmtpd_option(int opt, const char *arg)
{
    (void)arg;
    if (opt == 'a') {
        opt_preauth = 1;
        return 0;
    }
    return -1;
}

static int lmtpd_init(int argc, char **argv)
{
    struct buf err = BUF_INITIALIZER;

    (void)argc;
    (void)argv;
    if (lmtpd_settings_init(&settings, &err) < 0) {
        if (!settings.configdir)
            fatal(EX_CONFIG, "lmtpd: %s", buf_cstring(&err));
        log_error("TLS is not usable, STARTTLS disabled: %s",
                  buf_cstring(&err));
    }
    buf_free(&err);
    settings.preauth = opt_preauth;
    if (saslserver_init("Cyrus") < 0)
        return EX_TEMPFAIL;
    if (lmtp_deliver_init(&settings) < 0)
        return cyrusdb_needs_recovery() ? SERVICE_EX_RECOVER : EX_TEMPFAIL;
    return 0;
}

static void lmtpd_serve(struct service_conn *conn)
{
    struct lmtp_conn c = {
        .in_fd = conn->in_fd,
        .out_fd = conn->out_fd,
        .peer_addr = conn->peer_addr,
        .peer_port = conn->peer_port,
        .local_addr = conn->local_addr,
        .local_port = conn->local_port,
        .is_unix = conn->is_unix,
    };

    lmtp_session_run(&settings, &c);
}

static void lmtpd_shutdown(void)
{
    lmtp_deliver_done();
    saslserver_done();
    lmtpd_settings_fini(&settings);
}

static const struct service_ops lmtpd_service_ops = {
    .name = "lmtpd",
    .optstring = "a",
    .option = lmtpd_option,
    .init = lmtpd_init,
    .serve = lmtpd_serve,
    .shutdown = lmtpd_shutdown,
};

int main(int argc, char **argv)
{
    return service_main(argc, argv, &lmtpd_service_ops);
}
