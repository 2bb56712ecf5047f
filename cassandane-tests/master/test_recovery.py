"""master: a process killed inside Berkeley DB no longer takes the server
down: the child that finds the environment in need of recovery exits with
SERVICE_EX_RECOVER, and master stops everything, reruns START
(ctl_cyrusdb -r) and starts the services again."""

import os
import random
import signal
import threading
import time

from cassandane.instance import wait_for
from cassandane.testcase import InstanceTestCase


class RecoveryTest(InstanceTestCase):
    def busy_client(self, inst, stop, errors):
        """Sessions that keep the databases busy (login, create, status,
        subscribe) until `stop` is set; killed sessions are expected."""
        n = 0
        while not stop.is_set():
            n += 1
            try:
                m = inst.imap(timeout=5)
                m.login("user%d" % (n % 3), "pw")
                m.create("box%d" % n)
                m.subscribe("box%d" % n)
                m.status("INBOX", "(MESSAGES UIDNEXT)")
                m.logout()
            except Exception as e:       # a killed child drops its client
                errors.append(e)

    def test_service_survives_kills_inside_the_databases(self):
        inst = self.start_instance(prefork=3, config={
            "autocreate_quota": "0"})
        stop = threading.Event()
        errors = []
        clients = [threading.Thread(target=self.busy_client,
                                    args=(inst, stop, errors))
                   for _ in range(3)]
        for t in clients:
            t.start()
        rnd = random.Random(1)
        deadline = time.monotonic() + 12
        kills = 0
        try:
            while time.monotonic() < deadline:
                kids = inst.children("imapd")
                if kids:
                    try:
                        os.kill(rnd.choice(kids), signal.SIGKILL)
                        kills += 1
                    except ProcessLookupError:
                        pass
                time.sleep(rnd.uniform(0.01, 0.15))
        finally:
            stop.set()
            for t in clients:
                t.join(30)
        self.assertGreater(kills, 20)
        # Whatever state the kills left the environment in, the server
        # serves again: a new session logs in, creates and selects.
        def serves():
            try:
                m = inst.imap(timeout=5)
                m.login("after", "pw")
                typ, _ = m.create("Afterwards")
                typ2, _ = m.select("Afterwards")
                m.logout()
                return typ == "OK" and typ2 == "OK"
            except Exception:
                return False
        wait_for(serves, 60, "a working IMAP session after the kills; log:\n"
                 + inst.log_tail())
        log = inst.log()
        if "needs recovery: stopping every process" in log:
            # The recovery path ran: it must have completed.
            self.assertIn("recovery done; services start again", log)
        self.assertTrue(inst.is_running())
