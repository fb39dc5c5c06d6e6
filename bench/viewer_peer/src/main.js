// The benchmark's peer: a Cornerstone3D stack viewport over plain DICOM files, with scroll, window/level,
// zoom and pan tools. It records, in window.peerResult, when the first slice is drawn, when every slice
// is loaded, and how many slices it draws per second when asked for a new one on every animation frame.
import { RenderingEngine, Enums, init as initCore, imageLoader } from "@cornerstonejs/core";
import {
  init as initTools, addTool, ToolGroupManager, StackScrollTool, WindowLevelTool, ZoomTool, PanTool,
  Enums as ToolEnums,
} from "@cornerstonejs/tools";
import { init as initLoader } from "@cornerstonejs/dicom-image-loader";

const slices = Number(new URLSearchParams(location.search).get("n") || 300);
const result = (window.peerResult = { errors: [] });
window.addEventListener("error", (event) => result.errors.push(String(event.message)));

async function main() {
  initCore();
  initLoader({ maxWebWorkers: navigator.hardwareConcurrency || 1 });
  initTools();
  [StackScrollTool, WindowLevelTool, ZoomTool, PanTool].forEach(addTool);
  const imageIds = Array.from({ length: slices }, (_, i) => `wadouri:${location.origin}/data/${i + 1}.dcm`);
  const engine = new RenderingEngine("engine");
  const element = document.getElementById("viewport");
  engine.enableElement({ viewportId: "stack", type: Enums.ViewportType.STACK, element });
  const viewport = engine.getViewport("stack");
  const tools = ToolGroupManager.createToolGroup("tools");
  [StackScrollTool, WindowLevelTool, ZoomTool, PanTool].forEach((tool) => tools.addTool(tool.toolName));
  const { MouseBindings } = ToolEnums;
  tools.setToolActive(StackScrollTool.toolName, { bindings: [{ mouseButton: MouseBindings.Wheel }] });
  tools.setToolActive(WindowLevelTool.toolName, { bindings: [{ mouseButton: MouseBindings.Primary }] });
  tools.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
  tools.setToolActive(PanTool.toolName, { bindings: [{ mouseButton: MouseBindings.Auxiliary }] });
  tools.addViewport("stack", "engine");

  let drawn = 0;
  element.addEventListener(Enums.Events.IMAGE_RENDERED, () => {
    drawn += 1;
    if (!result.firstImage) result.firstImage = performance.now();
  });
  await viewport.setStack(imageIds, Math.floor(slices / 2));
  viewport.setProperties({ voiRange: { lower: -160, upper: 240 } });
  viewport.render();
  await Promise.all(imageIds.map((id) => imageLoader.loadAndCacheImage(id)));
  result.loaded = performance.now();

  await new Promise((done) => setTimeout(done, 200));
  const firstDrawn = drawn;
  let frames = 0, index = 0;
  const start = performance.now();
  await new Promise((done) => {
    function step() {
      frames += 1;
      index = (index + 1) % slices;
      viewport.setImageIdIndex(index).catch((error) => result.errors.push(String(error)));
      if (performance.now() - start < 3000) requestAnimationFrame(step); else done();
    }
    requestAnimationFrame(step);
  });
  const seconds = (performance.now() - start) / 1000;
  result.drawn = (drawn - firstDrawn) / seconds;
  result.animationFrames = frames / seconds;
  result.done = true;
}
main().catch((error) => { result.errors.push(String(error && (error.stack || error))); result.done = true; });
