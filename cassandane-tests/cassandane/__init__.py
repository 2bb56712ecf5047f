"""cassandane -- black-box test harness: fresh server instances, real protocols."""
