/* imapd.h -- not written yet. */
