/* util.h -- not written yet. */
