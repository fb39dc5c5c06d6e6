const here = (path) => new URL(path, import.meta.url).pathname;

export default {
  root: here("./src"),
  base: "./",
  // vtk.js imports Node's "events" (through xmlbuilder2); without the npm polyfill the bundle fails on load.
  resolve: { alias: { events: here("./node_modules/events/events.js") } },
  build: { outDir: here("./dist"), emptyOutDir: true, chunkSizeWarningLimit: 100000 },
  worker: { format: "es" },
};
