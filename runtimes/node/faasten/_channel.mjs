// Frames on the CloudCall channel: a 4-byte big-endian length, then one message.
//
// The guest's end is synchronous (readSync/writeSync on the two pipe descriptors):
// a call is one write and one read, with no event-loop turn in between, which is
// both the fastest round trip and the simplest ordering (calls made "at once" by
// Promise.all still go one after another, each answered before the next is sent).
import { readSync, writeSync } from "node:fs";

import { HostMessage } from "./_wire/cloudcalls.mjs";

/** The host closed the channel (or said goodbye). */
export class ChannelClosed extends Error {
  constructor(message) {
    super(message);
    this.name = "ChannelClosed";
  }
}

/** The host sent something the protocol does not allow; the channel is unusable. */
export class ProtocolError extends Error {
  constructor(message) {
    super(message);
    this.name = "ProtocolError";
  }
}

const SCRATCH_BYTES = 1 << 16;

export class Channel {
  constructor(input, output, maxBytes = 16 << 20) {
    this.input = input;
    this.output = output;
    this.maxBytes = maxBytes;
    this.scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
    this.start = 0;
    this.end = 0;
    // Why the channel cannot be used any more (a closed or broken channel stays so).
    this.failure = null;
  }

  /** Writes an already framed message. */
  sendFrame(frame) {
    this.check();
    let offset = 0;
    while (offset < frame.length) {
      try {
        offset += writeSync(this.output, frame, offset, frame.length - offset);
      } catch (error) {
        if (error.code === "EINTR" || error.code === "EAGAIN") continue;
        throw this.broken(new ChannelClosed(`cannot write to the host: ${error.message}`));
      }
    }
  }

  /** The next HostMessage (decoded). */
  receive() {
    this.check();
    while (this.end - this.start < 4) this.fill();
    const length = this.scratch.readUInt32BE(this.start);
    if (length > this.maxBytes) {
      throw this.broken(new ProtocolError(`the host sent a frame of ${length} bytes (the limit is ${this.maxBytes})`));
    }
    this.start += 4;
    const body = Buffer.allocUnsafe(length);
    const buffered = Math.min(length, this.end - this.start);
    this.scratch.copy(body, 0, this.start, this.start + buffered);
    this.start += buffered;
    for (let filled = buffered; filled < length;) {
      const n = this.read(body, filled, length - filled);
      filled += n;
    }
    try {
      return HostMessage.decode(body);
    } catch (error) {
      throw this.broken(new ProtocolError(`the host sent a malformed frame: ${error.message}`));
    }
  }

  fill() {
    if (this.start === this.end) {
      this.start = this.end = 0;
    } else if (this.end === this.scratch.length) {
      this.scratch.copy(this.scratch, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    this.end += this.read(this.scratch, this.end, this.scratch.length - this.end);
  }

  read(buffer, offset, length) {
    for (;;) {
      let n;
      try {
        n = readSync(this.input, buffer, offset, length, null);
      } catch (error) {
        if (error.code === "EINTR") continue;
        throw this.broken(new ChannelClosed(`cannot read from the host: ${error.message}`));
      }
      if (n === 0) throw this.broken(new ChannelClosed("the host closed the channel"));
      return n;
    }
  }

  check() {
    if (this.failure) throw this.failure;
  }

  broken(error) {
    this.failure ??= error;
    return error;
  }
}
