/* lock.h -- not written yet. */
