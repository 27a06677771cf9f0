// A running job's progress bar and its line of numbers (step, speed, time left). The snapshot's server time is
// an attribute only (data-wall-ms): tests measure latency with it, learners need not see it.
// show(view) redraws only these nodes: a prop change would make NiceGUI re-render the whole page.
// The `view` prop is only where it starts (show() never changes it).
export default {
  template: `
    <div class="live-progress w-full">
      <div class="flex items-center gap-4 text-sm">
        <span class="run-speed text-slate-600">{{ current.detail }}</span>
        <span class="snapshot-time hidden" :data-wall-ms="current.wall_ms || null"></span>
      </div>
      <div class="run-progress w-full h-2.5 rounded bg-slate-200 overflow-hidden" role="progressbar"
           aria-label="training progress" aria-valuemin="0" aria-valuemax="100" :aria-valuenow="percent">
        <div class="h-full bg-blue-600" :style="{ width: percent + '%' }"></div>
      </div>
    </div>`,
  props: {
    view: Object,
  },
  data() {
    return { current: this.view };
  },
  computed: {
    percent() {
      const fraction = this.current.fraction;
      return fraction === null || fraction === undefined ? 0 : Math.round(fraction * 1000) / 10;
    },
  },
  methods: {
    show(view) {
      this.current = view;
    },
  },
};
