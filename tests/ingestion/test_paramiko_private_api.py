"""The paramiko private API ingestion/transport.py relies on, checked against the installed paramiko.

A paramiko upgrade that renames, re-signs or re-numbers any of it fails here, in a fast unit test,
rather than as slow 32 KB downloads or a broken connection in production. The round trips go
through a real SFTPClient talking SFTP v3 to an in-memory peer: no network, no sshd."""
from __future__ import annotations

import inspect
import io
import struct
import threading

import paramiko
from paramiko.sftp import CMD_EXTENDED, CMD_EXTENDED_REPLY
from paramiko.sftp_client import SFTPClient
from paramiko.sftp_file import SFTPFile

from ingestion.transport import (
    _sftp_extended_request,
    _windowed_copy,
    read_request_size,
)

# SFTP v3 (draft-ietf-secsh-filexfer-02) numbers, spelled out here so that the peer below does not
# follow paramiko if its constants change.
FXP_INIT, FXP_VERSION, FXP_OPEN, FXP_CLOSE, FXP_READ, FXP_FSTAT = 1, 2, 3, 4, 5, 8
FXP_STATUS, FXP_HANDLE, FXP_DATA, FXP_ATTRS = 101, 102, 103, 105
FXP_EXTENDED, FXP_EXTENDED_REPLY = 200, 201
FX_OK, FX_EOF, FX_OP_UNSUPPORTED = 0, 1, 8
ATTR_SIZE = 0x1


class _SftpPeer:
    """The server end of an SFTP session, standing in for the Channel an SFTPClient talks through.

    It answers each request as soon as the client has sent it, and records what was asked."""

    def __init__(self, files=None, extended=None):
        self.files = files or {}
        self.extended = extended  # (type, ints) answered to any extended request
        self.extended_asked: list[str] = []
        self.reads: list[tuple[int, int]] = []  # (offset, length) of each read request
        self._sent = bytearray()
        self._answers = bytearray()
        self._cond = threading.Condition()

    # the Channel methods SFTPClient uses
    def send(self, data) -> int:
        with self._cond:
            self._sent += data
            while len(self._sent) >= 4:
                (length,) = struct.unpack(">I", self._sent[:4])
                if len(self._sent) < 4 + length:
                    break
                packet = bytes(self._sent[4:4 + length])
                del self._sent[:4 + length]
                kind, body = self._answer(packet[0], paramiko.Message(packet[1:]))
                payload = body.asbytes()
                self._answers += struct.pack(">IB", len(payload) + 1, kind) + payload
            self._cond.notify_all()
        return len(data)

    def recv(self, n: int) -> bytes:
        with self._cond:
            # an empty answer reads as EOF: a test that waits for nothing fails, it does not hang
            self._cond.wait_for(lambda: self._answers, timeout=5)
            data = bytes(self._answers[:n])
            del self._answers[:n]
            return data

    def close(self) -> None:
        pass

    def get_name(self) -> str:  # for paramiko's log lines
        return "peer"

    def _answer(self, kind: int, msg: paramiko.Message) -> tuple[int, paramiko.Message]:
        out = paramiko.Message()
        if kind == FXP_INIT:
            out.add_int(3)
            return FXP_VERSION, out
        out.add_int(msg.get_int())  # the request id
        if kind == FXP_EXTENDED:
            self.extended_asked.append(msg.get_text())
            reply_kind, values = self.extended
            if reply_kind == FXP_STATUS:
                return self._status(out, *values)
            for value in values:
                out.add_int64(value)
            return reply_kind, out
        if kind == FXP_OPEN:
            out.add_string(msg.get_string())  # the path doubles as the handle
            return FXP_HANDLE, out
        if kind == FXP_FSTAT:
            out.add_int(ATTR_SIZE)
            out.add_int64(len(self.files[msg.get_string().decode()]))
            return FXP_ATTRS, out
        if kind == FXP_READ:
            data = self.files[msg.get_string().decode()]
            offset, length = msg.get_int64(), msg.get_int()
            self.reads.append((offset, length))
            if offset >= len(data):
                return self._status(out, FX_EOF)
            out.add_string(data[offset:offset + length])
            return FXP_DATA, out
        if kind == FXP_CLOSE:
            return self._status(out, FX_OK)
        return self._status(out, FX_OP_UNSUPPORTED)

    @staticmethod
    def _status(out: paramiko.Message, code: int) -> tuple[int, paramiko.Message]:
        out.add_int(code)
        out.add_string("status")
        out.add_string("")  # language tag
        return FXP_STATUS, out


def test_request_constants_keep_their_protocol_numbers():
    assert (CMD_EXTENDED, CMD_EXTENDED_REPLY) == (FXP_EXTENDED, FXP_EXTENDED_REPLY)


def test_request_method_takes_a_type_and_its_arguments():
    request = inspect.getattr_static(SFTPClient, "_request")
    assert inspect.isfunction(request), "SFTPClient._request is gone or no longer a method"
    # what _sftp_extended_request passes: the request type, then the extension's name, which
    # must travel as one request argument among any number
    signature = inspect.signature(request)
    bound = signature.bind(object(), CMD_EXTENDED, "limits@openssh.com")
    varargs = [p.name for p in signature.parameters.values() if p.kind is p.VAR_POSITIONAL]
    assert varargs and bound.arguments[varargs[0]] == ("limits@openssh.com",)


def test_read_request_size_is_a_plain_class_attribute():
    # a property or slot could not be shadowed on one file, as transport.py does
    size = inspect.getattr_static(SFTPFile, "MAX_REQUEST_SIZE")
    assert type(size) is int and size > 0


def test_extended_request_round_trip():
    limits = [256 * 1024, 255 * 1024, 255 * 1024, 1024]  # packet, read, write, open handles
    peer = _SftpPeer(extended=(FXP_EXTENDED_REPLY, limits))
    client = SFTPClient(peer)
    try:
        assert read_request_size(client) == 255 * 1024
        assert peer.extended_asked == ["limits@openssh.com"]
    finally:
        client.close()


def test_extended_request_answered_otherwise():
    client = SFTPClient(_SftpPeer(extended=(FXP_STATUS, [FX_OK])))
    try:
        assert _sftp_extended_request(client, "limits@openssh.com") is None
    finally:
        client.close()
    # a refusal must raise what read_request_size treats as "no extension"
    client = SFTPClient(_SftpPeer(extended=(FXP_STATUS, [FX_OP_UNSUPPORTED])))
    try:
        assert read_request_size(client) == 32 * 1024
    finally:
        client.close()


def test_reads_are_split_by_the_size_set_on_the_file():
    data = bytes(range(256)) * 1200 + b"x"  # 307,201 bytes
    request = 100_000  # neither paramiko's 32 KB nor a power of two
    peer = _SftpPeer(files={"/drop/f.xml": data})
    client = SFTPClient(peer)
    out = io.BytesIO()
    try:
        assert _windowed_copy(client, "/drop/f.xml", out, request) == len(data)
    finally:
        client.close()
    assert out.getvalue() == data
    within = sorted(r for r in peer.reads if r[0] < len(data))
    assert within == [(0, request), (100_000, request), (200_000, request), (300_000, 7_201)]
    assert SFTPFile.MAX_REQUEST_SIZE == 32 * 1024  # set on the one file, not on the class
