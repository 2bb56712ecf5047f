#!/usr/bin/perl
# A full IMAP session through Mail::IMAPClient.
# usage: imapclient_session.pl PORT USER
# Prints one "key: value" line per result; dies on any failed command.
use strict;
use warnings;
use Mail::IMAPClient;
use Mail::IMAPClient::BodyStructure;

my ($port, $user) = @ARGV;
my $imap = Mail::IMAPClient->new(
    Server => '127.0.0.1', Port => $port,
    User => $user, Password => 'secret', Uid => 1,
    Debug => $ENV{IMAP_TRACE} ? 1 : 0,
) or die "connect/login failed: $@\n";

sub ok {
    my ($what, $r) = @_;
    defined $r or die "$what failed: " . ($imap->LastError // '?') . "\n";
    return $r;
}

my $msg1 = join("\r\n",
    'From: "Doe, Jane" <jane@example.com>',
    'To: fred@example.com',
    'Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=',
    'Date: Fri, 5 Jan 2024 08:00:00 -0500',
    'Message-ID: <g1@example.com>',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    "Sch\xc3\xb6ne Gr\xc3\xbc\xc3\x9fe aus Berlin.",
    '');
my $msg2 = join("\r\n",
    'From: ops@example.org',
    'To: fred@example.com',
    'Subject: disk full',
    'Date: Sat, 6 Jan 2024 23:59:59 +0000',
    '',
    'Please clean up.',
    '');

ok('create', $imap->create('Projects'));
my $uid1 = ok('append 1', $imap->append_string('Projects', $msg1, '\\Answered',
                                              '05-Jan-2024 13:00:00 +0000'));
my $uid2 = ok('append 2', $imap->append_string('Projects', $msg2));
print "appended uids: $uid1 $uid2\n";

ok('select', $imap->select('Projects'));
print "count: ", $imap->message_count('Projects'), "\n";
print "internaldate 1: ", $imap->internaldate($uid1), "\n";

my $env = ok('envelope', $imap->get_envelope($uid1));
print "envelope subject: ", $env->subject, "\n";
print "envelope from: ", join(',', $env->from_addresses), "\n";
my $bs = ok('bodystructure', $imap->get_bodystructure($uid1));
print "bodytype: ", $bs->bodytype, "/", $bs->bodysubtype, " ", $bs->bodyenc, "\n";
my $text = ok('bodypart', $imap->bodypart_string($uid1, '1'));
print "text matches: ", ($text eq "Sch\xc3\xb6ne Gr\xc3\xbc\xc3\x9fe aus Berlin.\r\n" ? 'yes' : 'no'), "\n";
my $whole = ok('message_string', $imap->message_string($uid2));
print "message 2 matches: ", ($whole eq $msg2 ? 'yes' : 'no'), "\n";
print "seen after body fetch: ", (grep({ $_ eq '\\Seen' } $imap->flags($uid2)) ? 'yes' : 'no'), "\n";

ok('set_flag', $imap->set_flag('Flagged', $uid2));
ok('unset_flag', $imap->unset_flag('Seen', $uid2));
print "flags 2: ", join(' ', sort @{ok("flags", scalar $imap->flags($uid2))}), "\n";
print "flags 1: ", join(' ', sort @{ok("flags", scalar $imap->flags($uid1))}), "\n";

my @hits = $imap->search('SUBJECT', $imap->Quote('disk'));
print "search disk: @hits\n";
@hits = $imap->search('FLAGGED');
print "search flagged: @hits\n";
@hits = $imap->search('BODY', $imap->Quote('Berlin'));
print "search body: @hits\n";
@hits = $imap->search('ANSWERED', 'SENTBEFORE', '6-Jan-2024');
print "search answered sentbefore: @hits\n";

ok('create', $imap->create('Projects/Done'));
ok('copy', $imap->copy('Projects/Done', $uid1, $uid2));
ok('delete_message', $imap->delete_message($uid1));
ok('expunge', $imap->expunge);
print "left: ", join(' ', $imap->messages), "\n";
ok('close', $imap->close);

ok('rename', $imap->rename('Projects/Done', 'Finished'));
ok('examine', $imap->examine('Finished'));
print "finished count: ", $imap->message_count('Finished'), "\n";
print "folders: ", join(' ', sort $imap->folders), "\n";
ok('delete', $imap->delete('Finished'));
ok('delete', $imap->delete('Projects'));
print "folders after delete: ", join(' ', sort $imap->folders), "\n";
$imap->logout;
print "done\n";
