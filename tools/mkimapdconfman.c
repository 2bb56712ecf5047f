/* mkimapdconfman.c -- print the imapd.conf(5) man page from the option table.
 *
 * The build runs this to make doc/imapd.conf.5, so the page lists exactly
 * the options the reader knows, with their types and defaults.
 */
#include <stdio.h>
#include <string.h>

#include "lib/config.h"

/* Print text with roff's special characters made literal. */
static void roff_text(const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", stdout);
    for (; *s; s++) {
        switch (*s) {
        case '\\': fputs("\\e", stdout); break;
        case '-': fputs("\\-", stdout); break;
        default: putchar(*s); break;
        }
    }
}

static const char *type_name(const struct config_option *o)
{
    switch (o->type) {
    case CONFIG_STRING: return "string";
    case CONFIG_INT: return "integer";
    case CONFIG_SWITCH: return "switch";
    case CONFIG_ENUM: return "one of";
    case CONFIG_DURATION: return "duration";
    case CONFIG_BYTESIZE: return "size";
    }
    return "?";
}

static const char *unit_name(const char *unit)
{
    switch (unit ? unit[0] : 's') {
    case 'd': return "days";
    case 'h': return "hours";
    case 'm': return "minutes";
    default: return "seconds";
    }
}

static void print_option(const struct config_option *o)
{
    printf(".TP\n\\fB");
    roff_text(o->name);
    printf("\\fR: ");
    if (!o->def)
        printf("<no default>");
    else if (!*o->def)
        printf("<empty string>");
    else
        roff_text(o->def);
    printf("\n");
    roff_text(o->doc);
    printf("\n.br\nType: %s", type_name(o));
    if (o->type == CONFIG_ENUM) {
        printf(" ");
        for (const char *w = o->extra; *w; w++) {
            if (*w == '|')
                printf(", ");
            else if (*w == '-')
                printf("\\-");
            else
                putchar(*w);
        }
    } else if (o->type == CONFIG_DURATION) {
        printf("; a bare number is in %s", unit_name(o->extra));
    } else if (o->type == CONFIG_BYTESIZE) {
        printf("; a bare number is in bytes");
    }
    printf(".\n");
}

static const char header[] =
".TH IMAPD.CONF 5 \"\" \"\" \"File Formats\"\n"
".SH NAME\n"
"imapd.conf \\- configuration file of the IMAP server and its tools\n"
".SH SYNOPSIS\n"
".B /etc/imapd.conf\n"
".PP\n"
"Every program of the server reads this file at start (or the file named\n"
"with \\fB\\-C\\fR); \\fBmaster\\fR(8) and the services re-read it when\n"
"they are restarted or sent SIGHUP.\n"
".SH DESCRIPTION\n"
"Each line has the form\n"
".IP\n"
"\\fIoption\\fR: \\fIvalue\\fR\n"
".PP\n"
"Spaces around the colon and at the end of the line are ignored.  Blank\n"
"lines and lines whose first non-blank character is \\fB#\\fR are\n"
"ignored; a \\fB#\\fR later in a line is part of the value.  Option names\n"
"are case-sensitive.  A backslash at the very end of a line joins the next\n"
"line to it, with nothing inserted between them.\n"
".PP\n"
"A line without a colon, or a value of the wrong type for a known option,\n"
"is an error that names the file and line; the program then refuses to\n"
"start (a running service keeps its previous settings).  An unknown option\n"
"is reported in the log and otherwise kept, so that it can still be\n"
"looked up.\n"
".SS Values\n"
"A \\fIswitch\\fR is on with \\fByes\\fR, \\fBon\\fR, \\fBtrue\\fR,\n"
"\\fBt\\fR or \\fB1\\fR and off with \\fBno\\fR, \\fBoff\\fR, \\fBfalse\\fR,\n"
"\\fBf\\fR or \\fB0\\fR.  The words of a \\fIone of\\fR option are matched\n"
"without regard to case.  A \\fIduration\\fR is a number followed by a\n"
"unit, \\fBd\\fR (days), \\fBh\\fR (hours), \\fBm\\fR (minutes) or \\fBs\\fR\n"
"(seconds); several may be summed, as in \\fB1h30m\\fR, and a leading\n"
"\\fB\\-\\fR makes it negative.  A bare number is read in the unit given\n"
"for each option below.  A \\fIsize\\fR is a number of bytes, optionally\n"
"followed by \\fBK\\fR, \\fBM\\fR or \\fBG\\fR (powers of 1024).  A string\n"
"value that begins with \\fB{configdirectory}\\fR has it replaced by the\n"
"value of \\fBconfigdirectory\\fR.\n"
".SS Including other files\n"
".IP\n"
"\\fB@include\\fR: \\fIpath\\fR\n"
".PP\n"
"reads \\fIpath\\fR at that point as if its lines were written there.  A\n"
"relative path is taken from the directory of the file that includes it.\n"
".SS Settings for one service\n"
"A line \\fISERVICE\\fB_\\fIoption\\fR: \\fIvalue\\fR, where \\fISERVICE\\fR\n"
"is the name of a service in \\fBcyrus.conf\\fR(5), sets \\fIoption\\fR\n"
"for that service only and takes precedence over a plain\n"
"\\fIoption\\fR line wherever either appears.  For example\n"
"\\fBimap_timeout: 45m\\fR changes the timeout of the \\fBimap\\fR service\n"
"alone, and \\fBlmtp_admins\\fR names the administrators of LMTP.\n"
"Replication options may likewise be prefixed with a channel name\n"
"(\\fIchannel\\fB_sync_host\\fR).\n"
".SS Named entries\n"
"Some keys carry a name of the administrator's choosing:\n"
".TP\n"
"\\fBpartition\\-\\fIname\\fR: \\fIdirectory\\fR\n"
"The directory of mail partition \\fIname\\fR.  At least one partition is\n"
"required, and \\fBdefaultpartition\\fR must name one of them.\n"
".TP\n"
"\\fBmetapartition\\-\\fIname\\fR: \\fIdirectory\\fR\n"
"Where the files listed in \\fBmetapartition_files\\fR of the mailboxes of\n"
"partition \\fIname\\fR are kept.\n"
".TP\n"
"\\fBarchivepartition\\-\\fIname\\fR: \\fIdirectory\\fR\n"
"Where archived messages of partition \\fIname\\fR are moved\n"
"(see \\fBarchive_enabled\\fR).\n"
".TP\n"
"\\fBbackuppartition\\-\\fIname\\fR: \\fIdirectory\\fR\n"
"A partition for backups.\n"
".TP\n"
"\\fItier\\fBsearchpartition\\-\\fIname\\fR: \\fIdirectory\\fR\n"
"Where the search index tier \\fItier\\fR of partition \\fIname\\fR is kept.\n"
".TP\n"
"\\fBxlist\\-\\fIflag\\fR: \\fIfolder\\fR\n"
"Give the special-use attribute \\e\\fIflag\\fR to \\fIfolder\\fR when it is\n"
"created automatically (see \\fBautocreate_inbox_folders\\fR).\n"
".TP\n"
"\\fBautocreate_acl\\fR: \\fIfolder identifier rights\\fR\n"
"Grant \\fIrights\\fR on an automatically created \\fIfolder\\fR; may be\n"
"given several times.\n"
".TP\n"
"\\fIhost\\fB_mechs\\fR, \\fIhost\\fB_password\\fR\n"
"SASL mechanisms and password used to log in to backend \\fIhost\\fR.\n"
".SS SASL options\n"
"Every key starting with \\fBsasl_\\fR is handed to the Cyrus SASL library\n"
"without the prefix and takes precedence over SASL's own configuration;\n"
"for example \\fBsasl_pwcheck_method: saslauthd\\fR,\n"
"\\fBsasl_mech_list: PLAIN LOGIN\\fR or \\fBsasl_auto_transition: yes\\fR.\n"
"\\fBsasl_minimum_layer\\fR and \\fBsasl_maximum_layer\\fR are also read by\n"
"the server itself and are listed below.\n"
".SH FIELDS\n"
"Each option is shown with its default; \\fB<no default>\\fR means the\n"
"option is unset unless given, \\fB<empty string>\\fR that it defaults to\n"
"an empty value.\n";

static const char footer[] =
".SH FILES\n"
".TP\n"
".B /etc/imapd.conf\n"
"The default location of this file.\n"
".SH SEE ALSO\n"
"\\fBcyrus.conf\\fR(5), \\fBmaster\\fR(8), \\fBimapd\\fR(8),\n"
"\\fBctl_cyrusdb\\fR(8)\n";

int main(void)
{
    fputs(header, stdout);
    for (int i = 1; i < IMAPOPT_LAST; i++)
        print_option(&config_options[i]);
    fputs(footer, stdout);
    return ferror(stdout) ? 1 : 0;
}
