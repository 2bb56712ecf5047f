/* imapd_commands.h -- not written yet. */
