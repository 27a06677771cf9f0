// A line chart for a run in progress, drawn on one canvas: show(series) redraws it with the new lines.
// Why not ECharts (the lab's other charts): redrawing four ECharts charts cost headless Chromium ~70-100 ms of CPU
// per round, taken from the trainer's BLAS threads on a 2-core machine; this canvas takes ~10 ms.
// series: [{name, color, dashed, xs, ys}] (ys may hold null: a gap). Hovering shows each line's value nearest
// the pointer.
const MARGIN = { left: 58, right: 14, top: 44, bottom: 36 };
const FONT = "11px system-ui, sans-serif";

function finite(values) {
  return values.filter((v) => v !== null && Number.isFinite(v));
}

// About `count` round steps (1, 2 or 5 × 10^k) covering [low, high]; at most 50, whatever the numbers
function linearTicks(low, high, count) {
  const raw = (high - low) / count;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const ticks = [];
  if (!(step > 0) || !Number.isFinite(step)) return ticks;
  const first = Math.ceil(low / step);
  for (let i = 0; i < 50 && (first + i) * step <= high + step * 1e-9; i++) {
    ticks.push(+((first + i) * step).toPrecision(12));
  }
  return ticks;
}

// Powers of ten inside [low, high] (plus 2× and 5× when the range spans under three decades)
function logTicks(low, high) {
  const ticks = [];
  const first = Math.floor(Math.log10(low));
  const last = Math.ceil(Math.log10(high));
  const multiples = last - first < 3 ? [1, 2, 5] : [1];
  for (let k = first; k <= last; k++) {
    for (const m of multiples) {
      const t = m * Math.pow(10, k);
      if (t >= low && t <= high) ticks.push(t);
    }
  }
  return ticks;
}

// a tick label: short
function label(value, logScale) {
  if (value === 0) return "0";
  if (logScale || Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5) return value.toExponential(0).replace("e+", "e");
  return String(+value.toPrecision(4));
}

// a value read under the pointer: four significant digits
function reading(value) {
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5)) return value.toExponential(3);
  return String(+value.toPrecision(4));
}

export default {
  template: `<div class="relative">
    <canvas ref="canvas" role="img" :aria-label="options.title" class="absolute inset-0"
            @mousemove="hover" @mouseleave="hover(null)"></canvas>
    <div ref="readout" class="live-chart-readout sr-only"></div></div>`,
  props: {
    options: Object, // {title, x_label, y_label, log_y, y_range: [low, high] or null to follow the data}
    lines: Array, // the series it starts with (show() never changes this prop)
  },
  created() {
    this.series = this.lines || []; // not reactive: only draw() reads it
    this.pointer = null;
  },
  mounted() {
    this.resizeObserver = new ResizeObserver(() => this.draw());
    this.resizeObserver.observe(this.$el);
  },
  unmounted() {
    this.resizeObserver?.disconnect();
  },
  methods: {
    show(series) {
      this.series = series;
      this.draw();
    },
    hover(event) {
      this.pointer = event ? event.offsetX : null;
      this.draw();
    },
    // the data range of every line, padded so that no line sits on the frame
    ranges() {
      const logScale = this.options.log_y;
      const xs = finite(this.series.flatMap((s) => s.xs));
      let ys = finite(this.series.flatMap((s) => s.ys));
      if (logScale) ys = ys.filter((v) => v > 0);
      if (!xs.length || !ys.length) return null;
      let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
      let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
      if (x1 - x0 <= 1e-9 * Math.max(Math.abs(x0), Math.abs(x1))) {
        // one x (epoch 0, before training): a unit-wide axis around it that never reaches below 0 when x cannot
        const low = x0 >= 0 ? Math.max(0, x0 - 0.5) : x0 - 0.5;
        [x0, x1] = [low, low + 1];
      }
      if (this.options.y_range) {
        [y0, y1] = this.options.y_range;
      } else if (logScale) {
        [y0, y1] = [y0 / 1.5, y1 * 1.5];
      } else {
        // a flat line (or one flat to float precision) gets a band around it, so the axis still has ticks
        const flat = y1 - y0 <= 1e-9 * Math.max(Math.abs(y0), Math.abs(y1));
        const pad = flat ? Math.abs(y0) * 0.1 || 1 : (y1 - y0) * 0.06;
        [y0, y1] = [y0 - pad, y1 + pad];
      }
      return { x0, x1, y0, y1 };
    },
    draw() {
      const canvas = this.$refs.canvas;
      if (!canvas) return;
      const ratio = window.devicePixelRatio || 1;
      const width = this.$el.clientWidth;
      const height = this.$el.clientHeight;
      if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
        canvas.width = Math.round(width * ratio);
        canvas.height = Math.round(height * ratio);
        canvas.style.width = width + "px";
        canvas.style.height = height + "px";
      }
      const g = canvas.getContext("2d");
      g.setTransform(ratio, 0, 0, ratio, 0, 0);
      g.clearRect(0, 0, width, height);
      g.fillStyle = "#333";
      g.textBaseline = "alphabetic";
      g.font = "bold 13px system-ui, sans-serif";
      g.fillText(this.options.title, 4, 15);
      g.font = FONT;

      // the legend: one swatch and name per line, on one row
      let legendX = 4;
      for (const s of this.series) {
        g.strokeStyle = s.color;
        g.lineWidth = 2;
        g.setLineDash(s.dashed ? [4, 3] : []);
        g.beginPath();
        g.moveTo(legendX, 28);
        g.lineTo(legendX + 16, 28);
        g.stroke();
        g.fillText(s.name, legendX + 20, 32);
        legendX += 28 + g.measureText(s.name).width;
      }
      g.setLineDash([]);

      const plot = { left: MARGIN.left, top: MARGIN.top, right: width - MARGIN.right, bottom: height - MARGIN.bottom };
      const range = this.ranges();
      g.strokeStyle = "#999";
      g.lineWidth = 1;
      g.strokeRect(plot.left, plot.top, plot.right - plot.left, plot.bottom - plot.top);
      if (!range) {
        this.$refs.readout.textContent = "";
        g.fillStyle = "#888";
        g.fillText("appears when training starts", plot.left + 10, (plot.top + plot.bottom) / 2);
        return;
      }
      const logScale = this.options.log_y;
      const fy = logScale ? Math.log10 : (v) => v;
      const toX = (x) => plot.left + ((x - range.x0) / (range.x1 - range.x0)) * (plot.right - plot.left);
      const toY = (y) =>
        plot.bottom - ((fy(y) - fy(range.y0)) / (fy(range.y1) - fy(range.y0))) * (plot.bottom - plot.top);

      // axes: grid lines, tick labels, names
      g.fillStyle = "#555";
      g.strokeStyle = "#e5e7eb";
      g.textAlign = "center";
      for (const t of linearTicks(range.x0, range.x1, Math.max(2, Math.floor((plot.right - plot.left) / 80)))) {
        g.beginPath();
        g.moveTo(toX(t), plot.top);
        g.lineTo(toX(t), plot.bottom);
        g.stroke();
        const text = label(t, false);
        const half = g.measureText(text).width / 2; // a label at the plot's edge stays whole inside the canvas
        g.fillText(text, Math.min(Math.max(toX(t), half), width - half), plot.bottom + 14);
      }
      g.fillText(this.options.x_label, (plot.left + plot.right) / 2, height - 4);
      g.textAlign = "right";
      const yTicks = logScale ? logTicks(range.y0, range.y1) : linearTicks(range.y0, range.y1, 4);
      for (const t of yTicks) {
        g.beginPath();
        g.moveTo(plot.left, toY(t));
        g.lineTo(plot.right, toY(t));
        g.stroke();
        g.fillText(label(t, logScale), plot.left - 4, toY(t) + 4);
      }
      g.save();
      g.translate(12, (plot.top + plot.bottom) / 2);
      g.rotate(-Math.PI / 2);
      g.textAlign = "center";
      g.fillText(this.options.y_label, 0, 0);
      g.restore();
      g.textAlign = "left";

      // the lines, clipped to the plot; null (or ≤ 0 on a log scale) leaves a gap
      g.save();
      g.beginPath();
      g.rect(plot.left, plot.top, plot.right - plot.left, plot.bottom - plot.top);
      g.clip();
      for (const s of this.series) {
        g.strokeStyle = s.color;
        g.lineWidth = 1.5;
        g.setLineDash(s.dashed ? [4, 3] : []);
        g.beginPath();
        let drawing = false;
        s.ys.forEach((y, i) => {
          if (y === null || !Number.isFinite(y) || (logScale && y <= 0)) {
            drawing = false;
            return;
          }
          if (drawing) g.lineTo(toX(s.xs[i]), toY(y));
          else g.moveTo(toX(s.xs[i]), toY(y));
          drawing = true;
        });
        g.stroke();
      }
      g.restore();
      g.setLineDash([]);
      // the points of short lines, unclipped: a test point at the last step sits on the plot's edge, whole
      for (const s of this.series.filter((line) => line.xs.length < 30)) {
        g.fillStyle = s.color;
        s.ys.forEach((y, i) => {
          const inside = toY(y) >= plot.top - 0.5 && toY(y) <= plot.bottom + 0.5;
          if (y !== null && Number.isFinite(y) && !(logScale && y <= 0) && inside) {
            g.fillRect(toX(s.xs[i]) - 2, toY(y) - 2, 4, 4);
          }
        });
      }
      const hovering = this.pointer !== null && this.pointer >= plot.left && this.pointer <= plot.right;
      this.$refs.readout.textContent = hovering ? this.readout(g, plot, range) : "";
    },
    // under the pointer: a vertical line and, per line, its value at the nearest x; returns them as text
    readout(g, plot, range) {
      const x = range.x0 + ((this.pointer - plot.left) / (plot.right - plot.left)) * (range.x1 - range.x0);
      const rows = [];
      for (const s of this.series) {
        let best = -1;
        s.xs.forEach((sx, i) => {
          if (s.ys[i] !== null && (best < 0 || Math.abs(sx - x) < Math.abs(s.xs[best] - x))) best = i;
        });
        if (best >= 0) rows.push([s.color, `${s.name}: ${reading(s.ys[best])} at ${reading(s.xs[best])}`]);
      }
      g.strokeStyle = "#666";
      g.beginPath();
      g.moveTo(this.pointer, plot.top);
      g.lineTo(this.pointer, plot.bottom);
      g.stroke();
      const boxWidth = 12 + Math.max(...rows.map(([, text]) => g.measureText(text).width));
      const boxX = this.pointer + boxWidth + 8 < plot.right ? this.pointer + 6 : this.pointer - boxWidth - 6;
      g.fillStyle = "rgba(255, 255, 255, 0.92)";
      g.fillRect(boxX, plot.top + 4, boxWidth, rows.length * 15 + 6);
      rows.forEach(([color, text], i) => {
        g.fillStyle = color;
        g.fillText(text, boxX + 6, plot.top + 18 + i * 15);
      });
      return rows.map(([, text]) => text).join("; ");
    },
  },
};
