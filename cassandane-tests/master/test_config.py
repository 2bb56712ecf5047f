"""master: errors in cyrus.conf and imapd.conf are reported clearly."""

import re

from cassandane import settings
from cassandane.testcase import InstanceTestCase


class ConfigTest(InstanceTestCase):
    def test_bad_cyrusconf_syntax_names_file_and_line(self):
        inst = self.new_instance()
        text = "\n".join([
            "START {",
            '  recover cmd="%s -r -C %s"' % (settings.program("ctl_cyrusdb"),
                                            inst.imapd_conf),
            "}",
            "SERVICES {",
            '  imap cmd="imapd -C %s listen="127.0.0.1:%d" prefork=0'
            % (inst.imapd_conf, inst.service().port),
            "}",
            ""])
        bad = inst.write_file("conf/broken.conf", text)
        rc, out = inst.run_master(timeout=10, cyrus_conf=bad)
        self.assertIsNotNone(rc, "master kept running with a broken cyrus.conf:\n"
                             + out)
        self.assertNotEqual(rc, 0, "master exited 0 on a broken cyrus.conf")
        lines = [l for l in out.splitlines() if "broken.conf" in l]
        self.assertTrue(lines, "error does not name the file:\n" + out)
        self.assertTrue(any(re.search(r"(?i)line\s*5\b|:5\b", l) for l in lines),
                        "error does not name line 5:\n" + out)

    def test_missing_cyrusconf_is_an_error(self):
        inst = self.new_instance()
        rc, out = inst.run_master(timeout=10, cyrus_conf=inst.basedir + "/nope.conf")
        self.assertIsNotNone(rc, "master kept running without cyrus.conf")
        self.assertNotEqual(rc, 0)
        self.assertIn("nope.conf", out)

    def test_bad_option_value_is_a_clear_error(self):
        inst = self.new_instance(config={"timeout": "abc"})
        rc, out = inst.run_master(timeout=10)
        self.assertIsNotNone(rc, "master started with `timeout: abc`:\n" + out)
        self.assertNotEqual(rc, 0)
        self.assertTrue(any("timeout" in l and "abc" in l for l in out.splitlines()),
                        "error should name the option and the value:\n" + out)

    def test_unknown_option_warns_but_starts(self):
        inst = self.new_instance()
        inst.extra_imapd_conf.append("frobnicate_widgets: yes")
        inst.start()
        with inst.raw() as s:
            self.assertTrue(s.expect_line().startswith(b"* OK"))
            self.assertNoopOK(s)
        line = inst.wait_log(r"frobnicate_widgets")
        self.assertRegex(line, r"(?i)unknown|unrecogni[sz]ed|invalid|ignor")
