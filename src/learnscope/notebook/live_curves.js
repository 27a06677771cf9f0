// learnscope.notebook.LiveCurves: training curves drawn on one canvas inside Jupyter (an anywidget).
// The kernel sends `series` ([{name, color, dashed, xs, ys}], ys may hold null: a gap) at most a few times a
// second; each change redraws the canvas. With `log_y` the y axis is logarithmic (values ≤ 0 are gaps). The lab's own chart (lab/components/live_chart.js) is a NiceGUI Vue
// component and cannot load here, so this is a smaller drawing of the same lines.
const MARGIN = { left: 56, right: 12, top: 30, bottom: 34 };

function niceTicks(low, high, count) {
  const raw = (high - low) / count;
  if (!(raw > 0) || !Number.isFinite(raw)) return [low];
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const ticks = [];
  for (let t = Math.ceil(low / step) * step; t <= high + step * 1e-9 && ticks.length < 50; t += step) {
    ticks.push(+t.toPrecision(12));
  }
  return ticks;
}

// Powers of ten inside [low, high] (given as log10 values)
function decadeTicks(low, high) {
  const ticks = [];
  for (let k = Math.ceil(low); k <= Math.floor(high) && ticks.length < 50; k++) ticks.push(k);
  return ticks.length ? ticks : [low];
}

function label(value) {
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5)) return value.toExponential(1);
  return String(+value.toPrecision(4));
}

function draw(model, canvas, legend) {
  const logY = model.get("log_y");
  // the y each point is drawn at: log10 on a log axis, where values ≤ 0 have no place
  const ty = (y) => (y === null || !Number.isFinite(y) ? null : logY ? (y > 0 ? Math.log10(y) : null) : y);
  const series = (model.get("series") || []).map((s) => ({ ...s, ys: s.ys.map(ty) }));
  const width = canvas.clientWidth || 640;
  const height = canvas.clientHeight || 260;
  const scale = window.devicePixelRatio || 1;
  canvas.width = width * scale;
  canvas.height = height * scale;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(scale, 0, 0, scale, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = "#222";
  ctx.fillText(model.get("title"), MARGIN.left, 16);
  const xs = series.flatMap((s) => s.xs).filter(Number.isFinite);
  const ys = series.flatMap((s) => s.ys).filter((v) => v !== null && Number.isFinite(v));
  legend.innerHTML = series
    .map((s) => `<span style="color:${s.color}">━</span> ${s.name.replace(/[<>&]/g, "")}`)
    .join("&nbsp;&nbsp; ");
  if (!xs.length || !ys.length) return;
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const px = (x) => MARGIN.left + ((x - x0) / (x1 - x0)) * plotW;
  const py = (y) => MARGIN.top + (1 - (y - y0) / (y1 - y0)) * plotH;
  ctx.strokeStyle = "#ddd";
  ctx.fillStyle = "#555";
  ctx.lineWidth = 1;
  for (const t of logY ? decadeTicks(y0, y1) : niceTicks(y0, y1, 5)) {
    ctx.beginPath(); ctx.moveTo(MARGIN.left, py(t)); ctx.lineTo(width - MARGIN.right, py(t)); ctx.stroke();
    ctx.fillText(label(logY ? Math.pow(10, t) : t), 4, py(t) + 4);
  }
  for (const t of niceTicks(x0, x1, 6)) {
    const text = label(t);
    const textWidth = ctx.measureText(text).width; // centred under its tick, kept whole inside the canvas
    ctx.fillText(text, Math.min(Math.max(px(t) - textWidth / 2, 0), width - textWidth), height - MARGIN.bottom + 14);
  }
  ctx.fillText(model.get("x_label"), MARGIN.left + plotW / 2 - 10, height - 6);
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 1.6;
    ctx.setLineDash(s.dashed ? [5, 4] : []);
    ctx.beginPath();
    let pen = false;
    s.xs.forEach((x, i) => {
      const y = s.ys[i];
      if (y === null || !Number.isFinite(y)) { pen = false; return; }
      if (pen) ctx.lineTo(px(x), py(y)); else ctx.moveTo(px(x), py(y));
      pen = true;
    });
    ctx.stroke();
    if (s.xs.length === 1 && s.ys[0] !== null) {       // one point: a dot, not an invisible line
      ctx.fillStyle = s.color;
      ctx.beginPath(); ctx.arc(px(s.xs[0]), py(s.ys[0]), 3, 0, 2 * Math.PI); ctx.fill();
    }
  }
  ctx.setLineDash([]);
}

function render({ model, el }) {
  const box = document.createElement("div");
  box.className = "learnscope-live-curves";
  const canvas = document.createElement("canvas");
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", model.get("title"));
  canvas.style.width = "100%";
  canvas.style.height = "260px";
  const legend = document.createElement("div");
  legend.style.font = "12px system-ui, sans-serif";
  box.append(canvas, legend);
  el.appendChild(box);
  const redraw = () => draw(model, canvas, legend);
  model.on("change:series", redraw);
  model.on("change:title", redraw);
  model.on("change:log_y", redraw);
  requestAnimationFrame(redraw);
}

export default { render };
