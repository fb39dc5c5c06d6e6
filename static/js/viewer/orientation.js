// What the viewer writes on a slice: the patient directions at its edges (from Image Orientation (Patient),
// DICOM PS3.3 C.7.6.2.1.1), its position along the slice normal, and an NM frame's time after injection.
// Pure functions; the pane puts their text on screen.

// DICOM's patient coordinates (LPS): +x towards the patient's left, +y posterior, +z head.
const AXES = [["R", "L"], ["A", "P"], ["F", "H"]];
// A direction's share of an axis below this is left out of its letters: a slice tilted by less than about
// 15° reads as the plane it is closest to.
const LEAST_SHARE = 0.25;

// The letters of a direction, its largest component first: [1, 0, 0] is "L", an oblique [0.7, 0, -0.7] "LF".
export function directionLetters(vector) {
  return [0, 1, 2]
    .filter((axis) => Math.abs(vector[axis]) >= LEAST_SHARE)
    .sort((a, b) => Math.abs(vector[b]) - Math.abs(vector[a]))
    .map((axis) => AXES[axis][vector[axis] > 0 ? 1 : 0])
    .join("");
}

function negated(vector) {
  return vector.map((component) => -component);
}

// The letters at the four edges of an image whose rows run along the first three cosines and whose columns
// run down along the last three; null without a usable orientation.
export function edgeLetters(orientation) {
  if (!Array.isArray(orientation) || orientation.length !== 6) return null;
  const row = orientation.slice(0, 3), column = orientation.slice(3);
  return {
    left: directionLetters(negated(row)),
    right: directionLetters(row),
    top: directionLetters(negated(column)),
    bottom: directionLetters(column),
  };
}

// The slice normal: the cross product of the row and column directions.
export function sliceNormal(orientation) {
  const [a, b, c, d, e, f] = orientation;
  return [b * f - c * e, c * d - a * f, a * e - b * d];
}

// A slice's position as the scanner prints it: the side of the origin it lies on, then the distance in mm
// ("F 327.0 mm"); the bare number when the orientation is unknown, "" without a position.
export function positionText(position, orientation) {
  if (position === null || position === undefined) return "";
  const distance = Math.abs(position).toFixed(1) + " mm";
  if (!Array.isArray(orientation) || orientation.length !== 6) return "Position " + position.toFixed(1) + " mm";
  const toward = sliceNormal(orientation).map((component) => (position < 0 ? -component : component));
  const letter = directionLetters(toward).charAt(0);
  return letter ? letter + " " + distance : "Position " + position.toFixed(1) + " mm";
}

// When a nuclear medicine frame was acquired after the injection: "30 s", "5 min", "3 h 10 min".
export function afterInjection(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 120) return Math.round(seconds) + " s";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return minutes + " min";
  return Math.floor(minutes / 60) + " h" + (minutes % 60 ? " " + (minutes % 60) + " min" : "");
}
