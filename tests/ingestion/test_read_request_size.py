"""What a download asks a server for per read, from its answer to limits@openssh.com.

The real OpenSSH answer is checked in test_transport_sftp.py; here the answers other servers
give, which the loopback sshd cannot be made to give."""
from __future__ import annotations

import paramiko
import pytest
from paramiko.sftp import CMD_EXTENDED_REPLY, CMD_STATUS

from ingestion.transport import MAX_READ_REQUEST, read_request_size


class _Server:
    """Answers the one extended request read_request_size makes."""

    def __init__(self, reply=None, error=None, kind=CMD_EXTENDED_REPLY):
        self.reply, self.error, self.kind, self.asked = reply, error, kind, []

    def _request(self, kind, *args):
        self.asked.append(args)
        if self.error is not None:
            raise self.error
        msg = paramiko.Message()
        for value in self.reply:
            msg.add_int64(value)
        return self.kind, paramiko.Message(msg.asbytes())


def _limits(max_read):
    return [256 * 1024, max_read, 255 * 1024, 1024]  # packet, read, write, open handles


@pytest.mark.parametrize("error", [OSError("Operation unsupported"), EOFError(),
                                   paramiko.SFTPError("Expected data")])
def test_a_server_without_the_extension_gets_32_kb(error):
    server = _Server(error=error)
    assert read_request_size(server) == 32 * 1024
    assert server.asked == [("limits@openssh.com",)]


def test_an_unexpected_answer_gets_32_kb():
    assert read_request_size(_Server(_limits(1 << 20), kind=CMD_STATUS)) == 32 * 1024


@pytest.mark.parametrize(("max_read", "asked"), [
    (261_120, 261_120),                # OpenSSH 8.x/9.x
    (1 << 20, MAX_READ_REQUEST),       # more than a window should hold in one request
    (0, MAX_READ_REQUEST),             # 0: the server sets no limit
    (16 * 1024, 16 * 1024),            # a server that wants less than 32 KB is obeyed
])
def test_the_announced_limit_is_obeyed_and_capped(max_read, asked):
    assert read_request_size(_Server(_limits(max_read))) == asked
