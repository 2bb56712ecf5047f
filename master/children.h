/* children.h -- not written yet. */
