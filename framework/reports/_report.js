// The report's charts, drawn with TradingView's lightweight-charts from the page's JSON.
//
// Every chart shares one grid of time slots (framework/reports/_chart.py), so slot i is the
// same time in each: scrolling or zooming one chart sets the same visible slots on the others,
// and the crosshair follows across them. Trade lines are drawn by a series primitive, from the
// entry slot and price to the exit slot and price, green for a profit and red for a loss; the
// trade under the cursor is described in a tooltip. window.tradewireReport exposes the charts
// for tests and the browser console.
(function () {
  "use strict";
  const started = performance.now();
  const LW = window.LightweightCharts;
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const times = new Array(data.timeSteps.length);
  for (let i = 0, t = 0; i < times.length; i++) times[i] = t += data.timeSteps[i];
  const COLORS = {
    up: "#26a69a",
    down: "#ef5350",
    volumeUp: "rgba(38, 166, 154, 0.35)",
    volumeDown: "rgba(239, 83, 80, 0.35)",
    profit: "#16a34a",
    loss: "#dc2626",
    equity: "#2962ff",
    held: "#787b86",
    benchmark: "#9c27b0",
    drawdown: "#ef5350",
    drawdownFill: "rgba(239, 83, 80, 0.25)",
    series: ["#ff6d00", "#2962ff", "#9c27b0", "#00897b", "#f9a825", "#795548", "#e91e63", "#607d8b"],
  };
  const PRICE_PANE_STRETCH = 3;
  const charts = [];

  function iso(seconds) {
    return new Date(seconds * 1000).toISOString().replace("T", " ").replace(":00.000Z", "").replace(".000Z", "");
  }

  function formatNumber(value) {
    const magnitude = Math.abs(value);
    const digits = magnitude >= 1000 ? 2 : magnitude >= 1 ? 4 : 6;
    return value.toLocaleString("en-US", { maximumFractionDigits: digits });
  }

  function precisionOf(values) {
    let precision = 2;
    let seen = 0;
    for (let i = 0; i < values.length && seen < 2000; i++) {
      const v = values[i];
      if (v === null) continue;
      seen++;
      const text = String(v);
      const dot = text.indexOf(".");
      if (dot >= 0 && text.indexOf("e") < 0) precision = Math.max(precision, Math.min(8, text.length - dot - 1));
    }
    return precision;
  }

  function lineData(values) {
    const out = new Array(times.length);
    for (let i = 0; i < times.length; i++) {
      const v = values[i];
      out[i] = v === null ? { time: times[i] } : { time: times[i], value: v };
    }
    return out;
  }

  function candleData(c) {
    const out = new Array(times.length);
    for (let i = 0; i < times.length; i++) {
      out[i] = c.open[i] === null
        ? { time: times[i] }
        : { time: times[i], open: c.open[i], high: c.high[i], low: c.low[i], close: c.close[i] };
    }
    return out;
  }

  function volumeData(c) {
    const out = new Array(times.length);
    for (let i = 0; i < times.length; i++) {
      out[i] = c.volume[i] === null
        ? { time: times[i] }
        : { time: times[i], value: c.volume[i], color: c.close[i] >= c.open[i] ? COLORS.volumeUp : COLORS.volumeDown };
    }
    return out;
  }

  function newChart(element) {
    return LW.createChart(element, {
      autoSize: true,
      layout: {
        background: { type: "solid", color: "#ffffff" },
        textColor: "#333333",
        fontSize: 12,
        attributionLogo: true,
        panes: { separatorColor: "#e0e3eb", enableResize: true },
      },
      grid: { vertLines: { color: "#f0f3fa" }, horzLines: { color: "#f0f3fa" } },
      rightPriceScale: { minimumWidth: 96, borderColor: "#d1d4dc" },
      timeScale: {
        timeVisible: true,
        secondsVisible: data.width < 60 && data.secondsVisible,
        borderColor: "#d1d4dc",
        minBarSpacing: 0.001,
        rightOffset: 0,
      },
      crosshair: { mode: 0 },
    });
  }

  // -- trade lines ---------------------------------------------------------------------------

  class TradeLines {
    constructor(trades) {
      this.trades = trades;
      this.count = trades.entry.length;
      this.drawn = 0;
      this.hovered = -1;
      const primitive = this;
      this.views = [{ zOrder: () => "top", renderer: () => ({ draw: (target) => primitive.draw(target) }) }];
    }

    attached({ chart, series, requestUpdate }) {
      this.chart = chart;
      this.series = series;
      this.requestUpdate = requestUpdate;
    }

    updateAllViews() {}

    paneViews() {
      return this.views;
    }

    // Media-space coordinates of trade i, or null when off the price scale.
    segment(i) {
      const t = this.trades;
      const scale = this.chart.timeScale();
      const x1 = scale.logicalToCoordinate(t.entry[i]);
      const x2 = scale.logicalToCoordinate(t.exit[i]);
      const y1 = this.series.priceToCoordinate(t.entryPrice[i]);
      const y2 = this.series.priceToCoordinate(t.exitPrice[i]);
      if (x1 === null || x2 === null || y1 === null || y2 === null) return null;
      return [x1, y1, x2, y2];
    }

    visible() {
      const range = this.chart.timeScale().getVisibleLogicalRange();
      const shown = [];
      if (range === null) return shown;
      const t = this.trades;
      for (let i = 0; i < this.count; i++) {
        if (t.exit[i] >= range.from - 1 && t.entry[i] <= range.to + 1) shown.push(i);
      }
      return shown;
    }

    draw(target) {
      const shown = this.visible();
      const t = this.trades;
      let drawn = 0;
      // Crowded (the whole of a long run): thin lines only; zoomed in: ends marked, and with
      // few trades in view, each one's P&L written at its exit.
      const spacing = this.chart.timeScale().options().barSpacing;
      const ends = spacing >= 3;
      const labels = shown.length <= 40;
      const thin = shown.length > 150;
      target.useBitmapCoordinateSpace(({ context, horizontalPixelRatio: hr, verticalPixelRatio: vr }) => {
        context.lineCap = "round";
        context.font = `${Math.round(11 * vr)}px system-ui, sans-serif`;
        for (const i of shown) {
          const s = this.segment(i);
          if (s === null) continue;
          const colour = t.pnl[i] >= 0 ? COLORS.profit : COLORS.loss;
          context.strokeStyle = colour;
          context.fillStyle = colour;
          context.lineWidth = (i === this.hovered ? 4 : thin ? 1.5 : 2) * hr;
          context.beginPath();
          context.moveTo(s[0] * hr, s[1] * vr);
          context.lineTo(s[2] * hr, s[3] * vr);
          context.stroke();
          if (ends) {
            for (const [x, y] of [[s[0], s[1]], [s[2], s[3]]]) {
              context.beginPath();
              context.arc(x * hr, y * vr, 3 * hr, 0, 2 * Math.PI);
              context.fill();
            }
          }
          if (labels) context.fillText(formatNumber(t.pnl[i]), (s[2] + 5) * hr, (s[3] - 5) * vr);
          drawn++;
        }
      });
      this.drawn = drawn;
    }

    // The trade whose line passes within `tolerance` px of (x, y), or -1.
    nearest(x, y, tolerance) {
      let best = -1;
      let bestDistance = tolerance;
      for (const i of this.visible()) {
        const s = this.segment(i);
        if (s === null) continue;
        const d = distanceToSegment(x, y, s);
        if (d <= bestDistance) {
          best = i;
          bestDistance = d;
        }
      }
      return best;
    }

    describe(i) {
      const t = this.trades;
      const side = t.long[i] ? "long" : "short";
      const sign = t.pnl[i] >= 0 ? "+" : "";
      return (
        `${side} ${formatNumber(t.qty[i])}: ${iso(t.entryTime[i])} @ ${formatNumber(t.entryPrice[i])}` +
        ` → ${iso(t.exitTime[i])} @ ${formatNumber(t.exitPrice[i])}, P&L ${sign}${formatNumber(t.pnl[i])}`
      );
    }
  }

  function distanceToSegment(x, y, [x1, y1, x2, y2]) {
    const dx = x2 - x1;
    const dy = y2 - y1;
    const length = dx * dx + dy * dy;
    const u = length === 0 ? 0 : Math.max(0, Math.min(1, ((x - x1) * dx + (y - y1) * dy) / length));
    return Math.hypot(x - (x1 + u * dx), y - (y1 + u * dy));
  }

  // -- charts --------------------------------------------------------------------------------

  function legendItem(legend, name, colour) {
    const item = document.createElement("span");
    item.className = "item";
    const swatch = document.createElement("i");
    swatch.style.background = colour;
    item.append(swatch, document.createTextNode(name));
    legend.append(item);
  }

  function symbolChart(entry) {
    const element = document.getElementById(entry.element);
    const legend = document.getElementById(entry.legend);
    const chart = newChart(element);
    const record = { id: entry.element, kind: "symbol", symbol: entry.symbol, chart, series: {}, main: null, trades: null };
    let pane = 0;
    if (entry.candles) {
      const precision = precisionOf(entry.candles.close);
      const candles = chart.addSeries(LW.CandlestickSeries, {
        upColor: COLORS.up,
        downColor: COLORS.down,
        borderVisible: false,
        wickUpColor: COLORS.up,
        wickDownColor: COLORS.down,
        priceFormat: { type: "price", precision, minMove: Math.pow(10, -precision) },
      });
      candles.setData(candleData(entry.candles));
      candles.priceScale().applyOptions({ scaleMargins: { top: 0.05, bottom: 0.22 } });
      record.series.candles = candles;
      record.main = candles;
      legendItem(legend, `${entry.symbol} candles`, COLORS.up);
      if (entry.candles.volume.some((v) => v !== null && v > 0)) {
        const volume = chart.addSeries(LW.HistogramSeries, {
          priceScaleId: "volume",
          priceFormat: { type: "volume" },
          lastValueVisible: false,
          priceLineVisible: false,
        });
        volume.setData(volumeData(entry.candles));
        chart.priceScale("volume").applyOptions({ scaleMargins: { top: 0.82, bottom: 0 } });
        record.series.volume = volume;
        legendItem(legend, "volume", COLORS.volumeUp);
      }
      if (entry.trades) {
        record.trades = new TradeLines(entry.trades);
        candles.attachPrimitive(record.trades);
        legendItem(legend, "trade won", COLORS.profit);
        legendItem(legend, "trade lost", COLORS.loss);
      }
    }
    let colour = 0;
    for (const panel of entry.panels) {
      if (panel.name !== "price") {
        // A panel of its own: the next pane (the first, if nothing is drawn in it yet).
        pane = chart.panes()[0].getSeries().length === 0 ? 0 : chart.panes().length;
        const label = document.createElement("span");
        label.className = "panel";
        label.textContent = `panel ${panel.name}:`;
        legend.append(label);
      } else {
        pane = 0;
      }
      for (const line of panel.series) {
        const lineColour = COLORS.series[colour++ % COLORS.series.length];
        const series = chart.addSeries(
          LW.LineSeries,
          { color: lineColour, lineWidth: 1.5, lastValueVisible: false, priceLineVisible: false, title: "" },
          pane,
        );
        series.setData(lineData(line.values));
        record.series[`${panel.name}/${line.name}`] = series;
        if (record.main === null) record.main = series;
        legendItem(legend, line.name, lineColour);
      }
    }
    const panes = chart.panes();
    if (entry.candles && panes.length > 1) panes[0].setStretchFactor(PRICE_PANE_STRETCH);
    return record;
  }

  function equityChart(entry) {
    const element = document.getElementById(entry.element);
    const legend = document.getElementById(entry.legend);
    const chart = newChart(element);
    const record = { id: entry.element, kind: "equity", symbol: null, chart, series: {}, main: null, trades: null };
    const equity = chart.addSeries(LW.LineSeries, { color: COLORS.equity, lineWidth: 2, priceLineVisible: false });
    equity.setData(lineData(entry.equity));
    record.series.equity = equity;
    record.main = equity;
    legendItem(legend, "equity", COLORS.equity);
    if (entry.buyAndHold) {
      const held = chart.addSeries(LW.LineSeries, {
        color: COLORS.held,
        lineWidth: 1.5,
        lineStyle: 2,
        priceLineVisible: false,
      });
      held.setData(lineData(entry.buyAndHold));
      record.series.buyAndHold = held;
      legendItem(legend, "buy and hold", COLORS.held);
    }
    if (entry.benchmark) {
      const benchmark = chart.addSeries(LW.LineSeries, {
        color: COLORS.benchmark,
        lineWidth: 1.5,
        lineStyle: 1,
        priceLineVisible: false,
      });
      benchmark.setData(lineData(entry.benchmark));
      record.series.benchmark = benchmark;
      legendItem(legend, `benchmark ${entry.benchmarkName}`, COLORS.benchmark);
    }
    const drawdown = chart.addSeries(
      LW.AreaSeries,
      {
        lineColor: COLORS.drawdown,
        topColor: COLORS.drawdownFill,
        bottomColor: COLORS.drawdownFill,
        lineWidth: 1,
        invertFilledArea: true,
        priceLineVisible: false,
        priceFormat: { type: "custom", formatter: (v) => `${v.toFixed(2)}%`, minMove: 0.01 },
      },
      1,
    );
    drawdown.setData(lineData(entry.drawdown.map((v) => (v === null ? null : v * 100))));
    record.series.drawdown = drawdown;
    legendItem(legend, "drawdown %", COLORS.drawdown);
    chart.panes()[0].setStretchFactor(PRICE_PANE_STRETCH);
    return record;
  }

  // -- one time axis -------------------------------------------------------------------------

  function sameRange(a, b) {
    return a !== null && b !== null && Math.abs(a.from - b.from) < 1e-6 && Math.abs(a.to - b.to) < 1e-6;
  }

  function linkTimeAxes() {
    for (const source of charts) {
      source.chart.timeScale().subscribeVisibleLogicalRangeChange((range) => {
        if (range === null) return;
        for (const other of charts) {
          if (other === source) continue;
          const scale = other.chart.timeScale();
          if (!sameRange(scale.getVisibleLogicalRange(), range)) scale.setVisibleLogicalRange(range);
        }
      });
    }
  }

  const tooltip = document.createElement("div");
  tooltip.id = "trade-tooltip";
  tooltip.hidden = true;
  document.body.append(tooltip);

  function valueAt(series, logical) {
    const point = series.dataByIndex(logical);
    if (!point) return null;
    return point.close !== undefined ? point.close : point.value !== undefined ? point.value : null;
  }

  let following = false;
  function linkCrosshairs() {
    for (const source of charts) {
      source.chart.subscribeCrosshairMove((param) => {
        if (following) return;
        following = true;
        try {
          for (const other of charts) {
            if (other === source || other.main === null) continue;
            const value = param.logical === undefined ? null : valueAt(other.main, Math.round(param.logical));
            if (value === null || param.time === undefined) other.chart.clearCrosshairPosition();
            else other.chart.setCrosshairPosition(value, param.time, other.main);
          }
        } finally {
          following = false;
        }
        showTrade(source, param);
      });
    }
  }

  function showTrade(record, param) {
    const trades = record.trades;
    if (!trades) return;
    const inPricePane = param.point !== undefined && (param.paneIndex === undefined || param.paneIndex === 0);
    const found = inPricePane ? trades.nearest(param.point.x, param.point.y, 8) : -1;
    if (found !== trades.hovered) {
      trades.hovered = found;
      trades.requestUpdate();
    }
    if (found === -1) {
      tooltip.hidden = true;
      return;
    }
    const box = document.getElementById(record.id).getBoundingClientRect();
    tooltip.textContent = `${record.symbol} ${trades.describe(found)}`;
    tooltip.className = trades.trades.pnl[found] >= 0 ? "profit" : "loss";
    tooltip.style.left = `${window.scrollX + box.left + param.point.x + 14}px`;
    tooltip.style.top = `${window.scrollY + box.top + param.point.y + 14}px`;
    tooltip.hidden = false;
  }

  // -- start ---------------------------------------------------------------------------------

  for (const entry of data.charts) {
    charts.push(entry.kind === "equity" ? equityChart(entry) : symbolChart(entry));
  }
  for (const record of charts) record.chart.timeScale().fitContent();
  linkTimeAxes();
  linkCrosshairs();
  const built = performance.now();

  const report = {
    charts,
    times,
    // Milliseconds: when the script started (since navigation), building the charts, and
    // until the browser had painted them.
    timings: { start_ms: started, script_ms: built - started, painted_ms: null },
    ready: false,
    tradeLinesDrawn() {
      return charts.reduce((sum, c) => sum + (c.trades ? c.trades.drawn : 0), 0);
    },
    // Page coordinates of the middle of a symbol's trade i (for pointing at it).
    tradePoint(symbol, i) {
      const record = charts.find((c) => c.symbol === symbol && c.trades);
      const s = record.trades.segment(i);
      if (s === null) return null;
      const box = document.getElementById(record.id).getBoundingClientRect();
      return { x: box.left + (s[0] + s[2]) / 2, y: box.top + (s[1] + s[3]) / 2 };
    },
  };
  window.tradewireReport = report;
  requestAnimationFrame(() =>
    requestAnimationFrame(() => {
      report.timings.painted_ms = performance.now() - started;
      report.ready = true;
    }),
  );
})();
