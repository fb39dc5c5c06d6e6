// A pane's pointer, touch and wheel: drag with the tool (scroll, window, pan, zoom), right-drag windows,
// middle- or Shift-drag pans, two fingers pinch, a tap picks a grid frame or marks the finding, the wheel
// scrolls (Ctrl zooms about the pointer).

import { draggedWindow } from "./windowing.js";

const PX_PER_SLICE = 8; // drag or swipe distance that moves one slice

function pinchState(pane, pointers) {
  const points = Array.from(pointers.values());
  const box = pane.canvas.getBoundingClientRect();
  return {
    distance: Math.hypot(points[0].x - points[1].x, points[0].y - points[1].y),
    x: (points[0].x + points[1].x) / 2 - box.left,
    y: (points[0].y + points[1].y) / 2 - box.top,
    zoom: pane.scale(),
    pan: { x: pane.pan.x, y: pane.pan.y },
  };
}

function pinch(pane, start, now) {
  pane.pan = { x: start.pan.x + now.x - start.x, y: start.pan.y + now.y - start.y };
  pane.zoomAt(start.zoom * now.distance / Math.max(start.distance, 1), now.x, now.y);
}

export function bindPointer(pane) {
  const canvas = pane.canvas;
  const pointers = new Map();
  let drag = null;
  let wheelRest = 0;
  canvas.addEventListener("contextmenu", (event) => event.preventDefault());
  canvas.addEventListener("pointerdown", (event) => {
    canvas.setPointerCapture(event.pointerId);
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    if (pointers.size === 2) {
      drag = { pinch: pinchState(pane, pointers) };
      return;
    }
    let tool = event.button === 2 ? "window" : event.button === 1 ? "pan" : pane.viewer.tool;
    if (event.shiftKey && event.button === 0) tool = "pan";
    drag = {
      tool, x: event.clientX, y: event.clientY, index: pane.index,
      win: pane.win && { center: pane.win.center, width: pane.win.width },
      pan: { x: pane.pan.x, y: pane.pan.y }, zoom: pane.scale(),
    };
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!pointers.has(event.pointerId) || !drag) return;
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    if (drag.pinch) {
      if (pointers.size === 2) pinch(pane, drag.pinch, pinchState(pane, pointers));
      return;
    }
    const dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    if (drag.tool === "window" && drag.win) {
      const win = draggedWindow(drag.win, dx, dy);
      pane.setWindow(win.center, win.width);
    } else if (drag.tool === "pan") {
      pane.pan = { x: drag.pan.x + dx, y: drag.pan.y + dy };
      pane.draw();
    } else if (drag.tool === "zoom") {
      pane.zoomTo(drag.zoom * Math.pow(1.01, -dy));
    } else if (!pane.grid) {
      pane.go(drag.index + Math.round(dy / PX_PER_SLICE), true);
    }
  });
  function release(event) {
    const wasTap = drag && !drag.pinch && Math.abs(event.clientX - drag.x) + Math.abs(event.clientY - drag.y) < 4;
    pointers.delete(event.pointerId);
    if (wasTap && pane.grid) pane.pickCell(event);
    else if (wasTap && pane.viewer.tool === "pick") pane.mark(event);
    drag = pointers.size ? drag : null;
    if (drag && drag.pinch && pointers.size < 2) drag = null;
  }
  canvas.addEventListener("pointerup", release);
  canvas.addEventListener("pointercancel", release);
  canvas.addEventListener("wheel", (event) => {
    event.preventDefault();
    if (event.ctrlKey || event.metaKey) {
      pane.zoomAt(pane.scale() * Math.pow(1.002, -event.deltaY), event.offsetX, event.offsetY);
      return;
    }
    // A mouse notch moves one slice; a touchpad's many small deltas add up to one.
    wheelRest += event.deltaY;
    if (Math.abs(wheelRest) < 50 && Math.abs(event.deltaY) < 50) return;
    const step = Math.sign(wheelRest);
    wheelRest = 0;
    pane.go(pane.index + step, true);
  }, { passive: false });
}
