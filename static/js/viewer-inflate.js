// The viewer's inflater: turns a slice's zlib-compacted values back into their bytes, off the page's thread.
self.onmessage = function (event) {
  var job = event.data;
  var stream = new Blob([job.bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  new Response(stream).arrayBuffer().then(function (buffer) {
    self.postMessage({ id: job.id, buffer: buffer }, [buffer]);
  }, function () {
    self.postMessage({ id: job.id, failed: true });
  });
};
