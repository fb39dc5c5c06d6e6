// The import report's file names: the upload's answer lists the names once (never stored), the report counts
// files from 1. Pure: no DOM.

// " (name)" for file ``number`` of the list, or "" when the list does not know it.
export function nameSuffix(names, number) {
  const name = names[Number(number) - 1];
  return name ? " (" + name + ")" : "";
}

// A duplicate's reason ends "file k": name that file too.
export function reasonWithName(reason, names) {
  return reason.replace(/\bfile (\d+)$/, (text, number) => text + nameSuffix(names, number));
}
