"""master: services start, prefork, maxchild, crash replacement."""

import os
import re
import signal
import time

from cassandane.instance import wait_for
from cassandane.testcase import InstanceTestCase


class ServicesTest(InstanceTestCase):
    def greet(self, session):
        line = session.expect_line()
        self.assertTrue(line.startswith(b"* OK"), "bad greeting %r" % line)
        return line

    def test_services_start_and_accept(self):
        inst = self.new_instance()
        inst.add_service("imap2", prefork=0)
        inst.start()
        for name in ("imap", "imap2"):
            with inst.raw(name) as s:
                self.greet(s)
                self.assertNoopOK(s)

    def test_prefork_keeps_idle_children(self):
        inst = self.start_instance(prefork=3)
        inst.wait(lambda: len(inst.children("imapd")) == 3, 10,
                  "3 preforked imapd children")
        time.sleep(0.5)
        self.assertEqual(len(inst.children("imapd")), 3,
                         "prefork=3 must give exactly 3 idle children")
        # A busy child no longer counts as idle: master forks a replacement.
        with inst.raw() as s:
            self.greet(s)
            inst.wait(lambda: len(inst.children("imapd")) == 4, 10,
                      "a fourth imapd while one serves a client")
            time.sleep(0.5)
            self.assertEqual(len(inst.children("imapd")), 4)
            self.assertNoopOK(s)

    def test_maxchild_caps_concurrent_children(self):
        inst = self.new_instance(prefork=0)
        inst.service("imap").maxchild = 2
        inst.start()
        a, b = inst.raw(), inst.raw()
        try:
            self.greet(a)
            self.greet(b)
            # The third connection sits in the listen queue: no greeting.
            c = inst.raw()
            try:
                self.assertTrue(c.nothing_within(2.0),
                                "third connection served although maxchild=2")
                self.assertLessEqual(len(inst.children("imapd")), 2)
                _, tagged = a.command("z", "LOGOUT")
                self.assertOK(tagged, "z")
                a.close()
                line = c.expect_line(timeout=10)
                self.assertTrue(line.startswith(b"* OK"),
                                "no greeting once a slot freed: %r" % line)
                self.assertNoopOK(c)
            finally:
                c.close()
        finally:
            a.close()
            b.close()

    def test_killed_child_is_replaced(self):
        inst = self.start_instance(prefork=2)
        kids = inst.wait(lambda: len(inst.children("imapd")) == 2 and
                         inst.children("imapd"), 10, "2 preforked imapd children")
        victim = kids[0]
        os.kill(victim, signal.SIGKILL)
        inst.wait(lambda: victim not in inst.children("imapd") and
                  len(inst.children("imapd")) == 2, 10,
                  "the killed child to be replaced")
        rx = re.compile(r"\b%d\b" % victim)
        line = inst.wait_log(r"\b%d\b.*(?i:signal)|(?i:signal).*\b%d\b"
                             % (victim, victim))
        self.assertRegex(line, rx)
        with inst.raw() as s:
            self.greet(s)
            self.assertNoopOK(s)
        self.assertTrue(inst.is_running())

    def test_master_survives_many_short_connections(self):
        inst = self.start_instance(prefork=1)
        for i in range(20):
            with inst.raw() as s:
                self.greet(s)
                if i % 2:
                    _, tagged = s.command("l", "LOGOUT")
                    self.assertOK(tagged, "l")
            # Every other client just drops the connection.
        wait_for(lambda: len(inst.children("imapd")) >= 1, 10, "an idle imapd")
        with inst.raw() as s:
            self.greet(s)
        self.assertTrue(inst.is_running())
