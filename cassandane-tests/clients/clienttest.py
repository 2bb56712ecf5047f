"""clienttest.py -- what the real-client tests share: an instance with the
milestone's configuration, a user with an INBOX, and a way to run an
external client program against it (skipping when it is not installed)."""

import os
import shutil
import subprocess

from cassandane.testcase import InstanceTestCase

HERE = os.path.dirname(os.path.abspath(__file__))

CONFIG = {
    "autocreate_quota": "0",
    "delete_mode": "immediate",
}


class ClientTestCase(InstanceTestCase):
    def start(self, users=("fred",), **config):
        conf = dict(CONFIG)
        conf.update(config)
        self.inst = self.start_instance(config=conf)
        self.port = self.inst.service().port
        if users:
            admin = self.inst.imap()
            admin.login("admin", "secret")
            for u in users:
                typ, data = admin.create("user/%s" % u)
                self.assertEqual(typ, "OK", data)
            admin.logout()
        return self.inst

    def need(self, program):
        path = shutil.which(program)
        if not path:
            self.skipTest("%s is not installed" % program)
        return path

    def need_perl_module(self, module):
        self.need("perl")
        r = subprocess.run(["perl", "-M" + module, "-e", "1"], capture_output=True)
        if r.returncode != 0:
            self.skipTest("Perl module %s is not installed" % module)

    def run_client(self, argv, input=None, timeout=60, env=None):
        """Run a client; its output (stdout and stderr, text)."""
        r = subprocess.run(argv, input=input, capture_output=True, text=True,
                           timeout=timeout, env=env, cwd=self.inst.basedir)
        self.last = r
        return r

    def script(self, name):
        return os.path.join(HERE, name)

    def login(self, user):
        c = self.inst.imap()
        typ, _ = c.login(user, "secret")
        self.assertEqual(typ, "OK")
        return c

    def folders(self, user):
        """Sorted names LIST "" "*" shows `user`."""
        c = self.login(user)
        typ, data = c.list('""', "*")
        self.assertEqual(typ, "OK")
        c.logout()
        names = []
        for line in data:
            if line is None:            # imaplib's way of saying "none"
                continue
            if isinstance(line, tuple):
                line = line[0] + line[1]
            line = line.decode()
            name = line.split(' "/" ', 1)[1]
            names.append(name.strip('"'))
        return sorted(names)
