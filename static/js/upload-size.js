// Sizes of an upload as the transfer line shows them. Pure: no DOM.

// Megabytes (10⁶ bytes): one decimal under 10 MB, whole ones above.
export function megabytes(bytes) {
  return (bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0) + " MB";
}
