/**
 * A process-wide request to stop the long call that is running (`fit`, `evaluate`, …) at its next
 * batch boundary. A notebook kernel's interrupt (the stop button) calls `requestStop`; long calls
 * poll `takeStopRequest` between batches, after yielding to the event loop so that the request
 * can arrive. Works in Node and in the browser.
 */
let pending = false;

/** Asks the running long call to stop at its next batch boundary. */
export function requestStop(): void {
  pending = true;
}

/** True once per request: the long call that sees it stops, and the request is used up. */
export function takeStopRequest(): boolean {
  const was = pending;
  pending = false;
  return was;
}

/** Forgets a request made while no long call was running; a long call calls this as it starts. */
export function clearStopRequest(): void {
  pending = false;
}
