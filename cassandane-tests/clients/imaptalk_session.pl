#!/usr/bin/perl
# A full IMAP session through Mail::IMAPTalk, as a mail client does it.
# usage: imaptalk_session.pl PORT USER
# Prints one "key: value" line per result; dies (exit != 0) on any
# command that fails.
use strict;
use warnings;
use Mail::IMAPTalk;

my ($port, $user) = @ARGV;
my $imap = Mail::IMAPTalk->new(
    Server => '127.0.0.1', Port => $port,
    Username => $user, Password => 'secret',
    RootFolder => '', Separator => '/', Uid => 1,
) or die "connect/login failed: $@\n";
$imap->set_tracing(1) if $ENV{IMAP_TRACE};

# search answers a list reference, or a bare number for one hit.
sub uids {
    my ($r) = @_;
    return join(' ', sort { $a <=> $b } (ref $r ? @$r : ($r eq '' ? () : ($r))));
}

# Commands answer differently in list context: always ask in scalar.
sub ok {
    my ($what, $r) = @_;
    defined $r or die "$what failed: " . ($imap->get_last_error() // '?') . "\n";
    return $r;
}

my $msg1 = join("\r\n",
    'From: Alice Example <alice@example.com>',
    'To: Fred <fred@example.com>',
    'Cc: carol@example.org',
    'Subject: Quarterly report',
    'Date: Tue, 2 Jan 2024 09:30:00 +0100',
    'Message-ID: <q1@example.com>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'The numbers are in the attachment.',
    '--b1',
    'Content-Type: application/octet-stream; name="data.bin"',
    'Content-Transfer-Encoding: base64',
    '',
    'AAECAwQFBgc=',
    '--b1--',
    '');
my $msg2 = join("\r\n",
    'From: bob@example.net',
    'To: fred@example.com',
    'Subject: lunch?',
    'Date: Wed, 3 Jan 2024 12:00:00 +0000',
    '',
    'Pizza at noon.',
    '');

ok('create', scalar $imap->create('Work'));
ok('create sub', scalar $imap->create('Work/Archive'));
ok('append 1', scalar $imap->append('Work', '(\\Seen)', { Literal => $msg1 }));
ok('append 2', scalar $imap->append('Work', { Literal => $msg2 }));

ok('select', scalar $imap->select('Work'));
print "exists: ", $imap->get_response_code('exists'), "\n";
print "uidvalidity: ", ($imap->get_response_code('uidvalidity') ? 'yes' : 'no'), "\n";

my $res = ok('fetch', scalar $imap->fetch('1:*', '(uid flags envelope bodystructure rfc822.size)'));
for my $uid (sort { $a <=> $b } keys %$res) {
    my $m = $res->{$uid};
    my $env = $m->{envelope};
    print "uid $uid subject: $env->{Subject}\n";
    print "uid $uid from: $env->{From}\n";
    print "uid $uid date: $env->{Date}\n";
    print "uid $uid flags: ", join(' ', sort @{$m->{flags}}), "\n";
    print "uid $uid size: $m->{'rfc822.size'}\n";
    my $bs = $m->{bodystructure};
    print "uid $uid type: $bs->{'MIME-Type'}/$bs->{'MIME-Subtype'}\n";
}
my $body = ok('fetch body', scalar $imap->fetch('1', 'body.peek[1]'));
my ($part) = values %$body;
print "part1: $part->{body}\n";
my $whole = ok('fetch whole', scalar $imap->fetch('2', 'body.peek[]'));
($part) = values %$whole;
print "whole2 matches: ", ($part->{body} eq $msg2 ? 'yes' : 'no'), "\n";

ok('store', scalar $imap->store('2', '+flags', '(\\Flagged $Work)'));
my $fl = ok('fetch flags', scalar $imap->fetch('2', 'flags'));
print "uid 2 flags now: ", join(' ', sort @{$fl->{2}{flags}}), "\n";

my $found = ok('search', scalar $imap->search('subject', 'lunch'));
print "search lunch: ", uids($found), "\n";
$found = ok('search', scalar $imap->search('unseen'));
print "search unseen: ", uids($found), "\n";
$found = ok('search', scalar $imap->search('from', 'alice', 'since', '1-Jan-2024'));
print "search alice: ", uids($found), "\n";

ok('copy', scalar $imap->copy('1:2', 'Work/Archive'));
ok('store deleted', scalar $imap->store('1', '+flags', '(\\Deleted)'));
ok('expunge', scalar $imap->expunge());
$found = ok('search all', scalar $imap->search('all'));
print "after expunge: ", uids($found), "\n";

ok('rename', scalar $imap->rename('Work/Archive', 'Old'));
ok('select renamed', scalar $imap->select('Old'));
print "renamed exists: ", $imap->get_response_code('exists'), "\n";
my $subj = ok('fetch renamed', scalar $imap->fetch('1:*', 'envelope'));
print "renamed subjects: ",
    join(' | ', map { $subj->{$_}{envelope}{Subject} } sort { $a <=> $b } keys %$subj), "\n";
ok('unselect', scalar $imap->unselect());

my $list = ok('list', scalar $imap->list('', '*'));
print "list: ", join(' ', sort map { $_->[2] } @$list), "\n";
ok('delete', scalar $imap->delete('Old'));
ok('delete', scalar $imap->delete('Work'));
$list = ok('list', scalar $imap->list('', '*'));
print "list after delete: ", join(' ', sort map { $_->[2] } @$list), "\n";
$imap->logout();
print "done\n";
