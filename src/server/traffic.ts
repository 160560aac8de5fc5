/**
 * Frames in and out, counted as they pass: a user's, adding up into the server's total. Counts
 * are counters, not server events: at full speed an event per chunk cost the server a quarter
 * of its CPU (measured with `npm run bench`).
 */
export class TrafficCounter {
  framesIn = 0;
  framesOut = 0;

  constructor(private readonly total?: TrafficCounter) {}

  countIn(frames: number): void {
    this.framesIn += frames;
    this.total?.countIn(frames);
  }

  countOut(frames: number): void {
    this.framesOut += frames;
    this.total?.countOut(frames);
  }
}
