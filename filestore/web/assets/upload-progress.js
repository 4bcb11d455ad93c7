/**
 * An upload's progress, reported at most ten times a second, with its speed over the last few
 * seconds (a moving window: a stall shows as a falling speed, not as an average that hides it).
 */

const INTERVAL_MS = 100;
const WINDOW_MS = 3000;

/**
 * @typedef {object} UploadProgress
 * @property {"checksum" | "upload"} phase  hashing the file before it goes up (only a file sent
 *   in one request, whose SHA-256 is declared), then sending it
 * @property {number} loaded                bytes done in this phase
 * @property {number} total                 the file's size
 * @property {number} bytesPerSecond        over the last few seconds
 * @property {null | "offline" | "retry"} waiting  why nothing moves, if something failed
 */

export class Progress {
  /**
   * @param {number} total
   * @param {((progress: UploadProgress) => void) | undefined} callback
   */
  constructor(total, callback) {
    this.total = total;
    this.callback = callback;
    /** @type {"checksum" | "upload"} a multipart upload never hashes the whole file first */
    this.phase = "upload";
    this.done = 0;
    /** @type {Map<number, number>} bytes sent so far of each request in flight */
    this.inFlight = new Map();
    /** @type {null | "offline" | "retry"} */
    this.waiting = null;
    /** @type {Array<[number, number]>} (time, loaded) samples within the window */
    this.samples = [];
    this.reportedAt = 0;
  }

  /** @param {"checksum" | "upload"} phase */
  start(phase) {
    this.phase = phase;
    this.done = 0;
    this.inFlight.clear();
    this.samples = [];
    this.report(true);
  }

  /** @param {number} bytes  more bytes done (a part stored, a chunk hashed) */
  add(bytes) {
    this.done += bytes;
    this.report();
  }

  /** @param {number} bytes  all bytes done so far */
  set(bytes) {
    this.done = bytes;
    this.report();
  }

  /**
   * How much of request `id` has been sent; 0 once it ended (its bytes then count by `add`).
   * @param {number} id
   * @param {number} sent
   */
  sending(id, sent) {
    if (sent) this.inFlight.set(id, sent);
    else this.inFlight.delete(id);
    this.report();
  }

  /** @param {null | "offline" | "retry"} why */
  wait(why) {
    this.waiting = why;
    this.report(true);
  }

  get loaded() {
    let loaded = this.done;
    for (const sent of this.inFlight.values()) loaded += sent;
    return Math.min(loaded, this.total);
  }

  /** @param {boolean} [force] report even if the last report was less than 100 ms ago */
  report(force = false) {
    if (!this.callback) return;
    const now = performance.now();
    const loaded = this.loaded;
    this.samples.push([now, loaded]);
    while (this.samples.length > 2 && now - this.samples[0][0] > WINDOW_MS) this.samples.shift();
    if (!force && now - this.reportedAt < INTERVAL_MS && loaded < this.total) return;
    this.reportedAt = now;
    const [since, from] = this.samples[0];
    const seconds = (now - since) / 1000;
    const bytesPerSecond = seconds > 0 ? Math.max(0, (loaded - from) / seconds) : 0;
    this.callback({ phase: this.phase, loaded, total: this.total, bytesPerSecond, waiting: this.waiting });
  }
}
