"""Frames on the CloudCall channel: a 4-byte big-endian length, then one message."""
import os

from faasten._wire import cloudcalls as wire


class ChannelClosed(Exception):
    """The host closed the channel (or said goodbye)."""


class Channel:
    __slots__ = ("fd", "buffer", "max_bytes")

    def __init__(self, fd, max_bytes=16 << 20):
        self.fd = fd
        self.buffer = bytearray()
        self.max_bytes = max_bytes

    def send(self, message):
        body = message.encode()
        frame = len(body).to_bytes(4, "big") + body
        view = memoryview(frame)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]

    def receive(self):
        """The next HostMessage."""
        buffer = self.buffer
        while len(buffer) < 4:
            self._fill()
        length = int.from_bytes(buffer[:4], "big")
        if length > self.max_bytes:
            raise ChannelClosed("the host sent a frame of %d bytes" % length)
        while len(buffer) < 4 + length:
            self._fill()
        body = bytes(buffer[4:4 + length])
        del buffer[:4 + length]
        return wire.HostMessage.decode(body)

    def _fill(self):
        chunk = os.read(self.fd, 1 << 16)
        if not chunk:
            raise ChannelClosed("the host closed the channel")
        self.buffer += chunk
