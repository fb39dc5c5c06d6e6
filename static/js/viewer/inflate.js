// Value decoding: a slice's zlib-compacted values back into an Int16Array or Float32Array. Inflating a whole
// stack takes longer than receiving it: it runs in workers (static/js/viewer-inflate.js), one per core (at
// most four), so the page stays free to draw; on the page itself where workers cannot start. No DOM.

// A record's flags: bit 0 float32 (else int16), bit 1 inverted (MONOCHROME1: low values are white).
export function valueFlags(type, inverted) {
  return (type === "int16" ? 0 : 1) | (inverted === "1" ? 2 : 0);
}

// The typed array over inflated bytes, marked inverted when the flags say so.
export function typed(buffer, flags) {
  const values = flags & 1 ? new Float32Array(buffer) : new Int16Array(buffer);
  values.inverted = Boolean(flags & 2);
  return values;
}

let inflaters = null;
const jobs = new Map();
let jobCount = 0;

function inflateHere(bytes, flags) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Response(stream).arrayBuffer().then((buffer) => typed(buffer, flags));
}

// Start the workers once per page; later calls keep the ones running.
export function startInflaters(url) {
  if (inflaters) return;
  const count = Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2));
  try {
    inflaters = Array.from({ length: count }, () => {
      const worker = new Worker(url);
      worker.onerror = () => {
        // The script did not load or run: inflate here from now on, and redo what was waiting.
        const waiting = Array.from(jobs.values());
        jobs.clear();
        inflaters = [];
        waiting.forEach((job) => inflateHere(job.bytes, job.flags).then(job.resolve, job.reject));
      };
      worker.onmessage = (event) => {
        const job = jobs.get(event.data.id);
        jobs.delete(event.data.id);
        if (event.data.failed) job.reject(new Error("inflate"));
        else job.resolve(typed(event.data.buffer, job.flags));
      };
      return worker;
    });
  } catch {
    inflaters = [];
  }
}

// Inflate ``bytes`` (a Uint8Array, handed over to a worker) into values typed by ``flags``.
export function inflate(bytes, flags) {
  if (!inflaters || !inflaters.length) return inflateHere(bytes, flags);
  return new Promise((resolve, reject) => {
    const id = jobCount;
    jobCount += 1;
    jobs.set(id, { resolve, reject, flags, bytes: bytes.slice() });
    inflaters[id % inflaters.length].postMessage({ id, bytes }, [bytes.buffer]);
  });
}
