"""master: pid file, signals (HUP reload, TERM shutdown), START and EVENTS."""

import os
import signal
import socket
import time

from cassandane.instance import HOST, listening_ports, proc_table, wait_for
from cassandane.testcase import InstanceTestCase


def alive(pids):
    table = proc_table()
    return [p for p in pids if p in table and table[p][1] != "Z"]


class LifecycleTest(InstanceTestCase):
    def greet(self, session):
        line = session.expect_line()
        self.assertTrue(line.startswith(b"* OK"), "bad greeting %r" % line)

    def test_pidfile_holds_master_pid(self):
        inst = self.start_instance()
        with open(inst.pidfile) as f:
            self.assertEqual(int(f.read().split()[0]), inst.proc.pid)

    def test_sighup_adds_service(self):
        inst = self.start_instance()
        svc = inst.add_service("imap2", prefork=0)
        self.assertNotIn(svc.port, listening_ports())
        inst.write_config()
        inst.signal_master(signal.SIGHUP)
        inst.wait(lambda: svc.port in listening_ports(), 10,
                  "imap2 to listen after SIGHUP")
        with inst.raw("imap2") as s:
            self.greet(s)
            self.assertNoopOK(s)
        with inst.raw("imap") as s:
            self.greet(s)

    def test_sighup_removes_service(self):
        inst = self.new_instance()
        svc = inst.add_service("imap2", prefork=0)
        inst.start()
        with inst.raw("imap2") as s:
            self.greet(s)
        inst.remove_service("imap2")
        inst.write_config()
        inst.signal_master(signal.SIGHUP)
        inst.wait(lambda: svc.port not in listening_ports(), 10,
                  "imap2 to stop listening after SIGHUP")
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection((HOST, svc.port), timeout=5).close()
        with inst.raw("imap") as s:
            self.greet(s)
            self.assertNoopOK(s)
        self.assertTrue(inst.is_running())

    def test_sigterm_stops_master_and_children(self):
        inst = self.start_instance(prefork=2)
        inst.wait(lambda: len(inst.children("imapd")) == 2, 10, "2 preforked imapd")
        s = inst.raw()
        try:
            self.greet(s)
            family = inst.descendants()
            self.assertTrue(family)
            inst.signal_master(signal.SIGTERM)
            try:
                inst.proc.wait(15)
            except Exception:
                self.fail("master still running 15s after SIGTERM")
            wait_for(lambda: not alive(family), 10,
                     "children %s to exit after master" % alive(family))
            self.assertTrue(s.wait_closed(5), "client connection left open")
        finally:
            s.close()
        self.assertFalse(os.path.exists(inst.pidfile),
                         "pid file not removed at shutdown")

    def test_second_master_is_refused(self):
        inst = self.start_instance()
        other = inst.write_file("conf/cyrus-second.conf", inst.cyrus_conf_text()
                                .replace(str(inst.service().port), "1"))
        rc, out = inst.run_master(timeout=10, cyrus_conf=other)
        self.assertIsNotNone(rc, "a second master with the same pid file kept "
                             "running; output:\n" + out)
        self.assertNotEqual(rc, 0, "second master exited 0; output:\n" + out)
        self.assertRegex(out, r"(?i)pid|already running|lock",
                         "no explanation from the second master")
        self.assertTrue(inst.is_running(), "the first master died")
        with open(inst.pidfile) as f:
            self.assertEqual(int(f.read().split()[0]), inst.proc.pid)
        with inst.raw() as s:
            self.greet(s)

    def test_start_command_runs_before_services(self):
        inst = self.new_instance()
        marker = os.path.join(inst.basedir, "start-marker")
        script = inst.write_file("start.sh", "sleep 1\necho done > %s\n" % marker)
        inst.add_start("marker", "/bin/sh %s" % script)
        inst.spawn()
        port = inst.service().port
        # Sample finely: the marker must exist at the first moment we see the
        # port listening, not merely some time later.
        wait_for(lambda: port in listening_ports() or not inst.is_running(), 20,
                 "imap to listen", interval=0.005)
        self.assertTrue(inst.is_running(), "master exited:\n" + inst.log_tail())
        self.assertTrue(os.path.exists(marker),
                        "service listened before the START command finished")
        with open(marker) as f:
            self.assertEqual(f.read().strip(), "done")
        with inst.raw() as s:
            self.greet(s)

    def test_event_with_period_fires(self):
        inst = self.new_instance()
        out = os.path.join(inst.basedir, "ticks")
        script = inst.write_file("tick.sh", "date +%%s >> %s\n" % out)
        inst.add_event("tick", "/bin/sh %s" % script, period=1)
        inst.start()
        start = time.time()
        wait_for(lambda: os.path.exists(out), 75, "the EVENTS entry to run")
        self.assertLess(time.time() - start, 75)
        self.assertTrue(inst.is_running())
