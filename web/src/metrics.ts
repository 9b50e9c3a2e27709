/**
 * Counters the dashboard exposes on `window.spikeloop` so a test (or a curious user in the console) can see
 * what the plots are doing: frames drawn, points drawn, frames per second, envelope requests.
 */
export interface EnvelopeRequestRecord {
  runId: number;
  channel: number;
  start: number;
  end: number;
  pixels: number;
  /** performance.now() when the request was made. */
  at: number;
}

export interface DashboardMetrics {
  live: {
    /** Redraws of the live plots (one per animation frame while live). */
    frames: number;
    /** Redraws that showed data not shown before. */
    dataFrames: number;
    /** Min/max pairs received over the WebSocket. */
    pairs: number;
    /** Points handed to the plot in the last frame (per channel, summed). */
    points: number;
    /** Time spent building and drawing one frame, ms (moving average). */
    drawMs: number;
    /** Redraws per second over the last second. */
    fps: number;
    /** Visible x range (s) of the last frame. */
    xRange: [number, number] | null;
    /** Last sample index seen per channel. */
    lastIndex: number[];
    /** Server decimation in pairs/s per channel. */
    pairsPerSecond: number | null;
    /** Sample-to-screen latencies (ms): server wall time of a block's newest sample to the frame first showing it. */
    latencyMs: number[];
    /** Server wall time of a block's newest sample to the block's arrival in the page, ms (latencyMs without the drawing). */
    arrivalMs: number[];
  };
  stored: {
    envelopeRequests: EnvelopeRequestRecord[];
    /** Envelope responses drawn. */
    draws: number;
    /** Visible x range (s) the view asked for. */
    xRange: [number, number] | null;
    /** x range (s) of the first plot's scale after the last envelope was drawn. */
    plotXRange: [number, number] | null;
    /** Spike events loaded for the window of the last draw (all of them unless `spikesCapped`). */
    spikesInView: number;
    spikesCapped: boolean;
  };
}

export function freshLiveMetrics(): DashboardMetrics['live'] {
  return { frames: 0, dataFrames: 0, pairs: 0, points: 0, drawMs: 0, fps: 0, xRange: null, lastIndex: [], pairsPerSecond: null, latencyMs: [], arrivalMs: [] };
}

export const metrics: DashboardMetrics = {
  live: freshLiveMetrics(),
  stored: { envelopeRequests: [], draws: 0, xRange: null, plotXRange: null, spikesInView: 0, spikesCapped: false },
};

declare global {
  interface Window {
    spikeloop: DashboardMetrics;
  }
}
window.spikeloop = metrics;

/** Frames-per-second meter over a sliding one-second window. */
export class FpsMeter {
  private times: number[] = [];
  tick(now: number): number {
    this.times.push(now);
    while (this.times.length > 0 && this.times[0] < now - 1000) this.times.shift();
    const span = this.times.length > 1 ? now - this.times[0] : 0;
    return span > 0 ? ((this.times.length - 1) * 1000) / span : 0;
  }
}
