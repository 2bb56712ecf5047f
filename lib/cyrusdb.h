/* cyrusdb.h -- not written yet. */
