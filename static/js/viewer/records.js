// A series' values arrive as one stream of records: a 9-byte header (the image id and the length as
// little-endian uint32, then the flags byte) and that many bytes of compacted values. Pure: no DOM.

export const HEADER_BYTES = 9;

// Cuts received chunks into records and hands each to ``onRecord({id, flags, bytes})``, copying each byte once.
export class RecordReader {
  constructor(onRecord) {
    this.onRecord = onRecord;
    this.chunks = [];
    this.buffered = 0;
    this.record = null;
  }

  // Remove the first n bytes received.
  take(n) {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const head = this.chunks[0], size = Math.min(head.length, n - filled);
      out.set(head.subarray(0, size), filled);
      filled += size;
      if (size === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(size);
    }
    this.buffered -= n;
    return out;
  }

  push(chunk) {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (!this.record) {
        if (this.buffered < HEADER_BYTES) return;
        const header = this.take(HEADER_BYTES), view = new DataView(header.buffer);
        this.record = { id: view.getUint32(0, true), length: view.getUint32(4, true), flags: header[8] };
      }
      if (this.buffered < this.record.length) return;
      const bytes = this.take(this.record.length);
      const record = this.record;
      this.record = null;
      this.onRecord({ id: record.id, flags: record.flags, bytes });
    }
  }
}

// The order slices are asked for: the reader's slice, then outwards, the next one before the one before.
export function loadOrder(index, count) {
  const order = [];
  for (let step = 0; step < count; step += 1) {
    const before = index - step, after = index + step;
    if (after < count) order.push(after);
    if (step && before >= 0) order.push(before);
  }
  return order;
}
