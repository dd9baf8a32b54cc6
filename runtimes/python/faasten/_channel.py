"""Frames on the CloudCall channel: a 4-byte big-endian length, then one message."""
import os

from faasten._wire import cloudcalls as wire


def frame(message):
    """A message as it goes on the wire: 4-byte big-endian length, then the bytes."""
    body = message.encode()
    return len(body).to_bytes(4, "big") + body


class ChannelClosed(Exception):
    """The host closed the channel (or said goodbye)."""


class Channel:
    __slots__ = ("input", "output", "buffer", "max_bytes")

    def __init__(self, input_fd, output_fd, max_bytes=16 << 20):
        self.input = input_fd
        self.output = output_fd
        self.buffer = bytearray()
        self.max_bytes = max_bytes

    def send(self, message):
        self.send_frame(frame(message))

    def send_frame(self, frame):
        """Writes an already framed message."""
        written = os.write(self.output, frame)
        if written < len(frame):
            view = memoryview(frame)[written:]
            while view:
                view = view[os.write(self.output, view):]

    def receive(self):
        """The next HostMessage."""
        buffer = self.buffer
        if not buffer:
            # The usual case: one whole frame per read, nothing left over.
            chunk = os.read(self.input, 1 << 16)
            if not chunk:
                raise ChannelClosed("the host closed the channel")
            if len(chunk) >= 4 and int.from_bytes(chunk[:4], "big") == len(chunk) - 4:
                return wire.HostMessage.decode(chunk[4:])
            buffer += chunk
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
        chunk = os.read(self.input, 1 << 16)
        if not chunk:
            raise ChannelClosed("the host closed the channel")
        self.buffer += chunk
