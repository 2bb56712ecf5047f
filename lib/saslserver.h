/* saslserver.h -- not written yet. */
