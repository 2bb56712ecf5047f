/* masterconf.h -- not written yet. */
