/* prot_deflate.h -- not written yet. */
